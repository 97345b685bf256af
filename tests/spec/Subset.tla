------------------------------- MODULE Subset -------------------------------
(***************************************************************************)
(* Every construct of the subset that raftlab's spec checker reads, once.  *)
(* A test evaluates Checks (every item must be TRUE) and has the           *)
(* tree-sitter TLA+ grammar parse this file without an error node, so the  *)
(* subset stays TLA+.                                                      *)
(***************************************************************************)
EXTENDS Naturals, Integers, Sequences, FiniteSets, TLC

CONSTANT Limit
CONSTANTS Procs, Names
VARIABLE count
VARIABLES log, table

ASSUME Limit \in Nat

RECURSIVE Fact(_), SumSeq(_)

Fact(n) == IF n = 0 THEN 1 ELSE n * Fact(n - 1)

SumSeq(s) == IF s = <<>> THEN 0 ELSE Head(s) + SumSeq(Tail(s))

vars == <<count, log, table>>

-----------------------------------------------------------------------------

Logic == /\ TRUE
         /\ \/ FALSE
            \/ ~FALSE
         /\ (FALSE => FALSE) /\ (TRUE <=> ~FALSE)
         /\ \A p \in Procs : \E q \in Procs : p = q
         /\ \A a, b \in 1..2, c \in {3} : a + b < c + 2

Arithmetic == /\ 2 + 3 * 4 - 1 = 13
              /\ 7 \div 2 = 3 /\ 7 % 2 = 1 /\ -3 + 5 = 2
              /\ 3 < 4 /\ 4 <= 4 /\ 5 > 4 /\ 5 >= 5 /\ 1 # 2 /\ 1 /= 2
              /\ Fact(4) = 24

Sets == /\ {1, 2} \cup {3} = 1..3
        /\ {1, 2} \cap {2} = {2}
        /\ {1, 2} \ {1} = {2}
        /\ 2 \in {1, 2} /\ 3 \notin {1, 2} /\ {1} \subseteq {1, 2}
        /\ {x \in 1..4 : x % 2 = 0} = {2, 4}
        /\ {x * x : x \in 1..3} = {1, 4, 9}
        /\ UNION {{1}, {2}} = {1, 2}
        /\ Cardinality(SUBSET {1, 2, 3}) = 8
        /\ (CHOOSE x \in 1..5 : x > 3) = 4

Functions == LET f == [p \in Procs |-> 0]
                 r == [name |-> "a", size |-> 2]
             IN /\ DOMAIN f = Procs
                /\ [f EXCEPT ![CHOOSE p \in Procs : TRUE] = @ + 1] # f
                /\ r.size = 2 /\ [r EXCEPT !.size = 3].size = 3
                /\ [[a |-> <<1, 2>>] EXCEPT !.a[2] = 5].a = <<1, 5>>
                /\ [t \in {1} |-> [u \in {1} |-> t + u]][1][1] = 2
                /\ f \in [Procs -> Nat]
                /\ (1 :> "x" @@ 2 :> "y")[2] = "y"

Sequences_ == /\ Len(<<1, 2, 3>>) = 3
              /\ Append(<<1>>, 2) = <<1, 2>>
              /\ Head(<<7, 8>>) = 7 /\ Tail(<<7, 8>>) = <<8>>
              /\ SubSeq(<<1, 2, 3, 4>>, 2, 3) = <<2, 3>>
              /\ <<1>> \o <<2>> = <<1, 2>>
              /\ SumSeq(<<1, 2, 3>>) = 6
              /\ <<1, 2>> \in Seq(Nat)

Control == /\ CASE Limit > 100 -> FALSE
                [] Limit > 1 -> TRUE
                [] OTHER -> FALSE
           /\ LET Double(k) == 2 * k IN Double(Limit) = Limit + Limit
           /\ IF Limit > 0 THEN TRUE ELSE FALSE

Checks == <<Logic, Arithmetic, Sets, Functions, Sequences_, Control>>

TypeOK == /\ count \in 0..Limit
          /\ log \in Seq(Names)
          /\ table \in [Procs -> Nat]

Init == /\ count = 0
        /\ log = <<>>
        /\ table = [p \in Procs |-> 0]

Bump(p) == /\ count < Limit
           /\ count' = count + 1
           /\ table' = [table EXCEPT ![p] = @ + 1]
           /\ UNCHANGED log

Note(name) == /\ log' = Append(log, name)
              /\ UNCHANGED <<count, table>>

Next == \/ \E p \in Procs : Bump(p)
        \/ \E name \in Names : Note(name)

Spec == Init /\ [][Next]_vars

Moves == <<Next>>_vars
=============================================================================
Text after the footer is ignored.
