"""Reference checkers that the benchmarks compare against."""
