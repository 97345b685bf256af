------------------------------ MODULE RaftReconfig ------------------------------
(***************************************************************************)
(* Raft with PreVote, learners and joint consensus, seen the way a raftlab  *)
(* trace shows it: the spec-visible state of every started node after each  *)
(* node step (docs/trace-format.md, field `st`), projected into the         *)
(* variables below by RaftReconfig.mapping.toml.                            *)
(*                                                                         *)
(* The log is known only by its summary (last index and term, snapshot and  *)
(* commit index), so the properties below are the forms of the Raft         *)
(* paper's invariants that such states can decide; docs/spec-checking.md   *)
(* says which property each one stands for and what it cannot see.         *)
(*                                                                         *)
(* Two kinds of named properties: state invariants (no primes) hold in      *)
(* every projected state; step properties (names ending in Step) hold for  *)
(* every pair of consecutive projected states, the second one primed.       *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

VARIABLES
    currentTerm,   \* node -> its current term
    role,          \* node -> "follower", "precandidate", "candidate" or "leader"
    votedFor,      \* node -> the node it voted for in currentTerm, 0 for none
    commitIndex,   \* node -> the highest index it knows committed
    appliedIndex,  \* node -> the highest index it applied
    lastIndex,     \* node -> the index of its last log entry (snapshot included)
    lastTerm,      \* node -> the term of that entry
    snapIndex,     \* node -> the last index its snapshot covers
    config,        \* node -> its applied configuration, a record of voters,
                   \*         outgoing (joint only), learners, learnersNext, autoLeave
    up,            \* the set of nodes running
    step,          \* the step that produced this state: [node, act, msg]
    elected        \* history: every <<term, node>> seen as leader so far

vars == <<currentTerm, role, votedFor, commitIndex, appliedIndex, lastIndex,
          lastTerm, snapIndex, config, up, step, elected>>

Nil == 0

\* The nodes that have started: a node enters the state with its first step.
Server == DOMAIN currentTerm

\* The nodes that have a state both before and after a step.
Kept == Server \cap Server'

\* The step restarted node n from its durable state (volatile state is reset).
Restarted(n) == step'.node = n /\ step'.act = "restart"

Voters(c) == c.voters \cup c.outgoing

IsJoint(c) == c.outgoing # {}

\* The voter sets a quorum of c must hold a majority of.
Parts(c) == IF IsJoint(c) THEN {c.voters, c.outgoing} ELSE {c.voters}

Majority(S) == Cardinality(S) \div 2 + 1

\* Every majority of A meets every majority of B. Two disjoint majorities
\* exist exactly when the members each needs from A \cap B, after taking
\* all it can from its own side, fit into A \cap B together.
MajoritiesMeet(A, B) ==
    LET needA == Majority(A) - Cardinality(A \ B)
        needB == Majority(B) - Cardinality(B \ A)
        fromBoth(k) == IF k > 0 THEN k ELSE 0
    IN fromBoth(needA) + fromBoth(needB) > Cardinality(A \cap B)

\* Every quorum of c meets every quorum of d (a quorum of a joint
\* configuration holds a majority of each half, so one meeting pair suffices).
QuorumsOverlap(c, d) == \E X \in Parts(c), Y \in Parts(d) : MajoritiesMeet(X, Y)

-----------------------------------------------------------------------------
(* State invariants *)

\* Election Safety: at most one leader per term, over the whole run so far
\* (elected is a history variable: a leader that stepped down still counts).
ElectionSafety ==
    \A e, f \in elected : e[1] = f[1] => e[2] = f[2]

\* The log summary is consistent: what is snapshotted is applied, what is
\* applied is committed, what is committed is in the log, and no entry is
\* from a term the node has not reached.
LogSummaryConsistent ==
    \A n \in Server :
        /\ snapIndex[n] <= commitIndex[n]
        /\ appliedIndex[n] <= commitIndex[n]
        /\ commitIndex[n] <= lastIndex[n]
        /\ lastTerm[n] <= currentTerm[n]

\* Leader Completeness, on log summaries: a node m learned its commit index
\* from a leader of a term no later than m's own term, so every entry up to
\* it is committed in a term no later than that; a running leader of a term
\* at least as late holds all of them.
LeaderCompleteness ==
    \A l \in up \cap Server, m \in Server :
        (role[l] = "leader" /\ currentTerm[m] <= currentTerm[l])
            => lastIndex[l] >= commitIndex[m]

\* No node is both a voter and a learner in a configuration it applied.
LearnersAreNotVoters ==
    \A n \in Server : config[n].learners \cap Voters(config[n]) = {}

\* Nodes waiting to become learners are outgoing voters of a joint configuration.
LearnersNextAreOutgoing ==
    \A n \in Server : config[n].learnersNext \subseteq config[n].outgoing

-----------------------------------------------------------------------------
(* Step properties *)

\* Leader Append-Only: a leader's log does not shrink while it stays leader
\* in one term.
LeaderAppendOnlyStep ==
    \A n \in Kept :
        (role[n] = "leader" /\ role'[n] = "leader" /\ currentTerm'[n] = currentTerm[n])
            => lastIndex'[n] >= lastIndex[n]

\* State Machine Safety as far as summaries show it: within one incarnation
\* a node never takes back a commit or an apply (a restart may start lower,
\* from what reached its disk).
CommitNeverRecedesStep ==
    \A n \in Kept :
        ~Restarted(n) =>
            /\ commitIndex'[n] >= commitIndex[n]
            /\ appliedIndex'[n] >= appliedIndex[n]

\* Terms never go back within an incarnation.
TermNeverRecedesStep ==
    \A n \in Kept : ~Restarted(n) => currentTerm'[n] >= currentTerm[n]

\* Learners never vote: a node that gives a vote in a step (its vote is set
\* anew, or kept into a new term) is a voter of its configuration before or
\* after the step.
LearnersNeverVoteStep ==
    \A n \in Kept :
        (/\ votedFor'[n] # Nil
         /\ \/ votedFor'[n] # votedFor[n]
            \/ currentTerm'[n] # currentTerm[n]
         /\ ~Restarted(n))
            => n \in Voters(config[n]) \cup Voters(config'[n])

\* Learners never campaign: a node that starts a (pre-)campaign is a voter.
LearnersNeverCampaignStep ==
    \A n \in Kept :
        (/\ role'[n] \in {"precandidate", "candidate"}
         /\ \/ role'[n] # role[n]
            \/ currentTerm'[n] # currentTerm[n])
            => n \in Voters(config[n]) \cup Voters(config'[n])

\* Quorum overlap between configurations that can decide concurrently: a
\* node that applies one entry and with it a new configuration moves to one
\* whose quorums meet the old one's (a simple change of one voter, entering
\* a joint configuration, or leaving it). Steps that apply several entries
\* at once, restarts and a first configuration are not judged here: the
\* summary cannot tell how many changes they hold.
ConfigChangeOverlapStep ==
    \A n \in Kept :
        (/\ config'[n] # config[n]
         /\ appliedIndex'[n] = appliedIndex[n] + 1
         /\ config[n].voters # {}
         /\ ~Restarted(n))
            => QuorumsOverlap(config[n], config'[n])

=============================================================================
