------------------------------ MODULE Peterson ------------------------------
(* Peterson's mutual exclusion for two processes, written in the subset of
   TLA+ that raftlab's spec checker reads (docs/spec-language.md).  The
   tests explore its states with the evaluator and check MutualExclusion;
   BadNext lets a process enter without waiting and must be caught. *)
EXTENDS Naturals, FiniteSets

CONSTANTS Procs
VARIABLES pc, flag, turn

vars == <<pc, flag, turn>>
Labels == {"idle", "set", "wait", "cs"}

Other(p) == CHOOSE q \in Procs : q # p

TypeOK == /\ pc \in [Procs -> Labels]
          /\ flag \in [Procs -> BOOLEAN]
          /\ turn \in Procs

Init == /\ pc = [p \in Procs |-> "idle"]
        /\ flag = [p \in Procs |-> FALSE]
        /\ turn \in Procs

Request(p) == /\ pc[p] = "idle"
              /\ flag' = [flag EXCEPT ![p] = TRUE]
              /\ pc' = [pc EXCEPT ![p] = "set"]
              /\ UNCHANGED turn

Yield(p) == /\ pc[p] = "set"
            /\ turn' = Other(p)
            /\ pc' = [pc EXCEPT ![p] = "wait"]
            /\ UNCHANGED flag

Enter(p) == /\ pc[p] = "wait"
            /\ \/ flag[Other(p)] = FALSE
               \/ turn = p
            /\ pc' = [pc EXCEPT ![p] = "cs"]
            /\ UNCHANGED <<flag, turn>>

Leave(p) == /\ pc[p] = "cs"
            /\ flag' = [flag EXCEPT ![p] = FALSE]
            /\ pc' = [pc EXCEPT ![p] = "idle"]
            /\ UNCHANGED turn

Next == \E p \in Procs : Request(p) \/ Yield(p) \/ Enter(p) \/ Leave(p)

Spec == Init /\ [][Next]_vars

InCS == {p \in Procs : pc[p] = "cs"}

MutualExclusion == Cardinality(InCS) <= 1

\* The classic mistake: enter as soon as you are waiting.
EnterEagerly(p) == /\ pc[p] = "wait"
                   /\ pc' = [pc EXCEPT ![p] = "cs"]
                   /\ UNCHANGED <<flag, turn>>

BadNext == \E p \in Procs : Request(p) \/ Yield(p) \/ EnterEagerly(p) \/ Leave(p)
=============================================================================
