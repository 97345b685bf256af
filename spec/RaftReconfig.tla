------------------------------ MODULE RaftReconfig ------------------------------
(***************************************************************************)
(* Raft with PreVote, learners and joint consensus, seen the way a raftlab  *)
(* trace shows it: the spec-visible state of every started node after each  *)
(* node step (docs/trace-format.md, field `st`), projected into the         *)
(* variables below by RaftReconfig.mapping.toml.                            *)
(*                                                                         *)
(* A node's log is known by its summary (last index and term, snapshot and  *)
(* commit index), and each step by the entries its log took and its state  *)
(* machine applied: the properties below are the forms of the Raft paper's *)
(* invariants that such states and steps decide; docs/spec-checking.md     *)
(* says which property each one stands for and what it cannot see.         *)
(*                                                                         *)
(* Two kinds of named properties: state invariants (no primes) hold in      *)
(* every projected state; step properties (names ending in Step) hold for  *)
(* every pair of consecutive projected states, the second one primed. The   *)
(* actions at the end are for trace validation: each trace step must be    *)
(* the action the mapping names for it.                                     *)
(***************************************************************************)
EXTENDS Naturals, Integers, Sequences, FiniteSets, TLC

VARIABLES
    currentTerm,   \* node -> its current term
    role,          \* node -> "follower", "precandidate", "candidate" or "leader"
    votedFor,      \* node -> the node it voted for in currentTerm, 0 for none
    commitIndex,   \* node -> the highest index it knows committed
    appliedIndex,  \* node -> the highest index it applied
    lastIndex,     \* node -> the index of its last log entry (snapshot included)
    lastTerm,      \* node -> the term of that entry
    snapIndex,     \* node -> the last index its snapshot covers
    commitTerm,    \* node -> the term of the entry at commitIndex in its log
                   \*         (Unknown when the trace does not say)
    config,        \* node -> its applied configuration, a record of voters,
                   \*         outgoing (joint only), learners, learnersNext, autoLeave
    uncommittedConfs, \* node -> how many configuration entries its log holds
                   \*         above its commit index
    durable,       \* node -> <<term, vote>> of its hard state on its disk
    up,            \* the set of nodes running
    step,          \* the step that produced this state: [node, act, msg, from,
                   \*   term, pre, ok, index] (the message a recv received)
    appendedEntries, \* the entries the step put in its node's log, each
                   \*   <<index, term, crc, term of the entry before it>>
    appliedEntries, \* the entries the step applied, each <<index, term, crc>>
    leaseRead,     \* <<node, index>> of a read the step served under the
                   \*   leader lease, <<>> if none
    promisedVotes, \* <<node, term, candidate>> for each vote a message the
                   \*   step sent promises (a vote_req, a granted vote_resp)
    elected,       \* history: every <<term, node>> seen as leader so far
    votes,         \* history: <<v, term, pre>> -> the nodes that received a
                   \*   granted vote_resp of v for term (PreVote or not)
    acks,          \* history: <<l, m>> -> <<term, index>>, the highest index
                   \*   leader l received a successful append_resp for from m
                   \*   in term (l's term when it received it)
    entryAt,       \* history: <<index, term>> -> <<crc, term before>>, the
                   \*   first entry of that index and term any log took
    appliedAt      \* history: index -> <<term, crc>>, the first entry any
                   \*   node applied at that index

vars == <<currentTerm, role, votedFor, commitIndex, appliedIndex, lastIndex,
          lastTerm, snapIndex, commitTerm, config, uncommittedConfs, durable, up,
          step, appendedEntries, appliedEntries, leaseRead, promisedVotes,
          elected, votes, acks, entryAt, appliedAt>>

Nil == 0

Unknown == -1

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

\* The history variables entryAt and appliedAt after a step (the mapping's
\* history tables use these): each keeps the first entry seen of every key;
\* an entry's predecessor's term that the trace did not say (Unknown) is
\* taken from a later copy of the entry that says it.
EntryKey(e) == <<e[1], e[2]>>

Recorded(f, e) ==
    EntryKey(e) \in DOMAIN f /\ (f[EntryKey(e)][2] # Unknown \/ e[4] = Unknown)

WithEntries(f, es) ==
    LET new == {i \in 1..Len(es) : ~Recorded(f, es[i])}
        crc(i) == IF EntryKey(es[i]) \in DOMAIN f THEN f[EntryKey(es[i])][1] ELSE es[i][3]
    IN IF new = {} THEN f
       ELSE [k \in {EntryKey(es[i]) : i \in new} |->
                LET i == CHOOSE j \in new : EntryKey(es[j]) = k IN <<crc(i), es[i][4]>>] @@ f

WithApplied(f, es) ==
    LET new == {i \in 1..Len(es) : es[i][1] \notin DOMAIN f}
    IN IF new = {} THEN f
       ELSE [k \in {es[i][1] : i \in new} |->
                LET i == CHOOSE j \in new : es[j][1] = k IN <<es[i][2], es[i][3]>>] @@ f

-----------------------------------------------------------------------------
(* State invariants *)

\* Election Safety: at most one leader per term, over the whole run so far
\* (elected is a history variable: a leader that stepped down still counts).
ElectionSafety ==
    \A e, f \in elected : e[1] = f[1] => e[2] = f[2]

\* Vote once: no node's (non-PreVote) vote for one term was received as
\* granted by two candidates, across restarts too (the evidence is the
\* delivered vote_resp messages, not the voter's own state).
VoteOnce ==
    \A k \in DOMAIN votes : ~k[3] => Cardinality(votes[k]) <= 1

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
    \A l \in up \cap Server :
        role[l] = "leader" =>
            \A m \in Server : currentTerm[m] <= currentTerm[l] => lastIndex[l] >= commitIndex[m]

\* Log Matching: two logs that hold an entry of the same index and term hold
\* the same entry and the same entries before it. Judged on the evidence of
\* every entry a log takes (its node's append records): each copy of an
\* entry of one index and term has the same payload (CRC) and follows an
\* entry of the same term as every other copy. By induction on the index,
\* two logs that agree on an entry then agree on every entry before it. A
\* predecessor whose term the trace does not say (Unknown: below a snapshot
\* install, above a restart's commit index) is not compared.
LogMatching ==
    \A i \in 1..Len(appendedEntries) :
        LET e == appendedEntries[i]
            first == entryAt[EntryKey(e)]
        IN /\ first[1] = e[3]
           /\ (first[2] # Unknown /\ e[4] # Unknown) => first[2] = e[4]

\* State Machine Safety: no two nodes apply different entries at one index,
\* across restarts too (the evidence is every apply record: appliedAt holds
\* the first entry applied at each index).
StateMachineSafety ==
    \A i \in 1..Len(appliedEntries) :
        LET e == appliedEntries[i] IN appliedAt[e[1]] = <<e[2], e[3]>>

\* At most one configuration change is in flight: a leader that has
\* committed an entry of its term holds at most one configuration entry
\* above its commit index (Ongaro's thesis, 4.1; a change is taken only once
\* the one before it is applied, and the entry that leaves a joint
\* configuration only once the one that entered it is). Before that commit
\* its log may hold changes earlier leaders committed that it has not heard
\* of yet, so it is not judged.
OneUncommittedConfig ==
    \A n \in Server :
        (role[n] = "leader" /\ commitTerm[n] = currentTerm[n]) => uncommittedConfs[n] <= 1

\* Reads under a lease are current: while a leader serves a read from its
\* lease at index i (no heartbeat round), no other node has committed past
\* i. A later leader that committed would have made it a stale read; the
\* lease exists to rule that out (Ongaro's thesis, 6.4.1).
LeaseReadsCurrent ==
    leaseRead # <<>> =>
        \A m \in Server \ {leaseRead[1]} : commitIndex[m] <= leaseRead[2]

\* Durable before send (Raft, Figure 2: a server updates its stable storage
\* before responding): a vote that a message promises is on the sender's
\* disk when the message leaves, or a later term is (a crash then cannot
\* take the vote back). A trace that shows no write yet (Unknown) says
\* nothing of the disk and is not judged.
VotesDurableWhenSent ==
    \A i \in 1..Len(promisedVotes) :
        LET p == promisedVotes[i]
            d == durable[p[1]]
        IN d[1] = Unknown \/ d[1] > p[2] \/ (d[1] = p[2] /\ d[2] = p[3])

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

\* Legal configuration transitions (the membership guards): a node that
\* applies one entry and with it a new configuration changes at most one
\* voter, enters a joint configuration (its voters become the outgoing
\* half) or leaves one (the incoming half stays). Judged on the same steps
\* as the overlap below.
LegalConfigTransitionStep ==
    \A n \in Kept :
        (/\ config'[n] # config[n]
         /\ appliedIndex'[n] = appliedIndex[n] + 1
         /\ config[n].voters # {}
         /\ ~Restarted(n))
            => LET c == config[n]
                   d == config'[n]
               IN \/ ~IsJoint(c) /\ ~IsJoint(d)
                     /\ Cardinality((c.voters \ d.voters) \cup (d.voters \ c.voters)) <= 1
                  \/ ~IsJoint(c) /\ IsJoint(d) /\ d.outgoing = c.voters
                  \/ IsJoint(c) /\ ~IsJoint(d) /\ d.voters = c.voters

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

-----------------------------------------------------------------------------
(***************************************************************************)
(* Actions, one per kind of trace step (RaftReconfig.mapping.toml says     *)
(* which step is which and binds the parameters to the step's fields).     *)
(* A node step is seen whole, after every effect of its input, so each     *)
(* action allows what one input may do to the stepping node's summary, and *)
(* nothing to any other node. n is the stepping node; a received message   *)
(* came from m with term t. Trace validation checks that each step's       *)
(* action is enabled in the state before it and allows the state after it. *)
(***************************************************************************)

Max(a, b) == IF a > b THEN a ELSE b
Min(a, b) == IF a < b THEN a ELSE b

\* S holds a majority of every voter set of c (both halves when joint).
IsQuorum(S, c) == \A P \in Parts(c) : Cardinality(S \cap P) >= Majority(P)

\* commitTerm follows the commit index and the log: it may change only
\* where one of them does (or a restart or snapshot resets what is known).
CommitTermFollows(n) ==
    (commitIndex'[n] = commitIndex[n] /\ lastIndex'[n] >= commitIndex[n]
     /\ commitTerm[n] # Unknown)
        => commitTerm'[n] = commitTerm[n]

\* No node but n changes, and no node starts or stops.
Frame(n) ==
    /\ DOMAIN currentTerm' = Server
    /\ up' = up
    /\ currentTerm' = [currentTerm EXCEPT ![n] = currentTerm'[n]]
    /\ role' = [role EXCEPT ![n] = role'[n]]
    /\ votedFor' = [votedFor EXCEPT ![n] = votedFor'[n]]
    /\ commitIndex' = [commitIndex EXCEPT ![n] = commitIndex'[n]]
    /\ appliedIndex' = [appliedIndex EXCEPT ![n] = appliedIndex'[n]]
    /\ lastIndex' = [lastIndex EXCEPT ![n] = lastIndex'[n]]
    /\ lastTerm' = [lastTerm EXCEPT ![n] = lastTerm'[n]]
    /\ snapIndex' = [snapIndex EXCEPT ![n] = snapIndex'[n]]
    /\ commitTerm' = [commitTerm EXCEPT ![n] = commitTerm'[n]]
    /\ config' = [config EXCEPT ![n] = config'[n]]
    /\ uncommittedConfs' = [uncommittedConfs EXCEPT ![n] = uncommittedConfs'[n]]
    /\ durable' = [durable EXCEPT ![n] = durable'[n]]
    /\ CommitTermFollows(n)

\* n's election state (term, vote, role) is unchanged.
ElectionUnchanged(n) ==
    /\ currentTerm'[n] = currentTerm[n]
    /\ votedFor'[n] = votedFor[n]
    /\ role'[n] = role[n]

\* n's log summary is unchanged.
LogUnchanged(n) ==
    /\ lastIndex'[n] = lastIndex[n]
    /\ lastTerm'[n] = lastTerm[n]

\* What n applied (commit, apply, snapshot, configuration) is unchanged.
AppliedUnchanged(n) ==
    /\ commitIndex'[n] = commitIndex[n]
    /\ appliedIndex'[n] = appliedIndex[n]
    /\ snapIndex'[n] = snapIndex[n]
    /\ config'[n] = config[n]

NodeUnchanged(n) == ElectionUnchanged(n) /\ LogUnchanged(n) /\ AppliedUnchanged(n)

\* A message of a later term t makes n a follower of t with no vote.
FollowTerm(n, t) ==
    /\ t > currentTerm[n]
    /\ currentTerm'[n] = t
    /\ votedFor'[n] = Nil
    /\ role'[n] = "follower"

\* n's term and role after a message of term t from a leader: a later term
\* is taken, and a leader of n's term or a later one makes n its follower.
LeaderMessageTerm(n, t) ==
    /\ currentTerm'[n] = Max(currentTerm[n], t)
    /\ votedFor'[n] = IF t > currentTerm[n] THEN Nil ELSE votedFor[n]
    /\ role'[n] = IF t >= currentTerm[n] THEN "follower" ELSE role[n]

\* The votes n holds for term t (PreVote ones if pre): its own, and every
\* granted vote_resp it received for that term.
Votes(n, t, pre) ==
    {n} \cup {v \in Server : <<v, t, pre>> \in DOMAIN votes' /\ n \in votes'[<<v, t, pre>>]}

\* Leaders only: the nodes whose successful append_resp in n's term reached
\* index i or beyond, with n itself.
Acked(n, i) ==
    {n} \cup {m \in Server : /\ <<n, m>> \in DOMAIN acks'
                             /\ acks'[<<n, m>>][1] = currentTerm[n]
                             /\ acks'[<<n, m>>][2] >= i}

\* A leader's commit index advances only to an index a quorum (of the
\* configuration after the step) acknowledged,
\* and only to an entry of its own term (the Raft paper, 5.4.2: earlier
\* terms' entries are committed with it, never by counting their replicas).
LeaderCommit(n) ==
    /\ commitIndex'[n] >= commitIndex[n]
    /\ commitIndex'[n] > commitIndex[n] =>
        /\ role[n] = "leader"
        /\ IsQuorum(Acked(n, commitIndex'[n]), config'[n])
    /\ commitIndex'[n] > commitIndex[n] => commitTerm'[n] \in {currentTerm[n], Unknown}

\* A new leader appends the first entry of its term as it wins: its no-op
\* (Ongaro's thesis, 6.4: what lets it learn, and commit, what is committed).
LeaderNoop(n) ==
    /\ lastIndex'[n] = lastIndex[n] + 1
    /\ lastTerm'[n] = currentTerm'[n]

\* n starts an election in the term after t, voting for itself; a voter
\* alone in its configuration wins it at once.
StartElection(n, t) ==
    /\ n \in Voters(config[n])
    /\ currentTerm'[n] = t + 1
    /\ votedFor'[n] = n
    /\ \/ role'[n] = "candidate" /\ LogUnchanged(n)
       \/ role'[n] = "leader" /\ IsQuorum({n}, config[n]) /\ LeaderNoop(n)

\* A PreVote round: only the role changes.
StartPreVote(n) ==
    /\ n \in Voters(config[n])
    /\ role'[n] = "precandidate"
    /\ currentTerm'[n] = currentTerm[n]
    /\ votedFor'[n] = votedFor[n]
    /\ LogUnchanged(n)

\* A voter that may campaign does (a timeout, or a forced campaign).
Campaign(n) ==
    /\ role[n] # "leader"
    /\ \/ StartPreVote(n)
       \/ StartElection(n, currentTerm[n])

\* A candidate for n's vote: m's log is at least as up to date as n's.
UpToDate(n, li, lt) == lt > lastTerm[n] \/ (lt = lastTerm[n] /\ li >= lastIndex[n])

\* n's vote after a vote_req of m for term t: kept (none in a new term), or
\* given to m if n had not voted for another in t, is a voter and m's log
\* is up to date.
VoteChoices(n, m, t, li, lt) ==
    LET kept == IF currentTerm'[n] = currentTerm[n] THEN votedFor[n] ELSE Nil
    IN {kept} \cup
       (IF /\ kept \in {Nil, m}
           /\ t = currentTerm'[n]
           /\ n \in Voters(config[n])
           /\ UpToDate(n, li, lt)
        THEN {m} ELSE {})

HandleVoteRequest(n, m, t, pre, li, lt) ==
    /\ n \in up
    /\ Frame(n)
    /\ LogUnchanged(n)
    /\ AppliedUnchanged(n)
    /\ pre => ElectionUnchanged(n)
    /\ currentTerm'[n] \in {currentTerm[n], Max(currentTerm[n], t)}
    /\ role'[n] = IF currentTerm'[n] > currentTerm[n] THEN "follower" ELSE role[n]
    /\ votedFor'[n] \in VoteChoices(n, m, t, li, lt)

HandleVoteResponse(n, m, t, pre, ok) ==
    /\ n \in up
    /\ Frame(n)
    /\ AppliedUnchanged(n)
    /\ \/ NodeUnchanged(n)
       \/ /\ ~(pre /\ ok)
          /\ FollowTerm(n, t)
          /\ LogUnchanged(n)
       \/ /\ role[n] \in {"candidate", "precandidate"}
          /\ role'[n] = "follower"
          /\ currentTerm'[n] = currentTerm[n]
          /\ votedFor'[n] = votedFor[n]
          /\ LogUnchanged(n)
       \/ /\ ~pre
          /\ role[n] = "candidate"
          /\ t = currentTerm[n]
          /\ role'[n] = "leader"
          /\ IsQuorum(Votes(n, currentTerm[n], FALSE), config[n])
          /\ currentTerm'[n] = currentTerm[n]
          /\ votedFor'[n] = votedFor[n]
          /\ LeaderNoop(n)
       \/ /\ pre
          /\ role[n] = "precandidate"
          /\ IsQuorum(Votes(n, currentTerm[n] + 1, TRUE), config[n])
          /\ StartElection(n, currentTerm[n])

\* n's log after an append_req whose entries follow prev (of term pt) and
\* end at last (of term lt): unchanged, or ending at last (entries added,
\* or a conflicting suffix replaced), which needs n's log to hold prev.
AppendLog(n, prev, pt, last, lt) ==
    /\ lastIndex'[n] \in {lastIndex[n], last}
    /\ (lastIndex'[n] # lastIndex[n] \/ lastTerm'[n] # lastTerm[n]) =>
        /\ lastIndex'[n] = last
        /\ lastTerm'[n] = lt
        /\ last > prev
        /\ prev <= lastIndex[n]
        /\ prev = lastIndex[n] => pt = lastTerm[n]

HandleAppendRequest(n, m, t, prev, pt, last, lt, mc) ==
    /\ n \in up
    /\ Frame(n)
    /\ t < currentTerm[n] => NodeUnchanged(n)
    /\ LeaderMessageTerm(n, t)
    /\ AppendLog(n, prev, pt, last, lt)
    /\ commitIndex'[n] \in {commitIndex[n], Max(commitIndex[n], Min(mc, last))}
    /\ appliedIndex'[n] = appliedIndex[n]
    /\ snapIndex'[n] = snapIndex[n]
    /\ config'[n] = config[n]

HandleHeartbeat(n, m, t, mc) ==
    /\ n \in up
    /\ Frame(n)
    /\ t < currentTerm[n] => NodeUnchanged(n)
    /\ LeaderMessageTerm(n, t)
    /\ LogUnchanged(n)
    /\ commitIndex'[n] \in {commitIndex[n], Max(commitIndex[n], mc)}
    /\ appliedIndex'[n] = appliedIndex[n]
    /\ snapIndex'[n] = snapIndex[n]
    /\ config'[n] = config[n]

\* A snapshot at index i (of term st): ignored, or (when n's log already
\* holds i) only its commit index moves up to i, or it replaces n's log,
\* commit, apply and configuration.
HandleSnapshot(n, m, t, i, st) ==
    /\ n \in up
    /\ Frame(n)
    /\ t < currentTerm[n] => NodeUnchanged(n)
    /\ LeaderMessageTerm(n, t)
    /\ \/ /\ LogUnchanged(n)
          /\ commitIndex'[n] \in {commitIndex[n], Max(commitIndex[n], i)}
          /\ appliedIndex'[n] = appliedIndex[n]
          /\ snapIndex'[n] = snapIndex[n]
          /\ config'[n] = config[n]
       \/ /\ i > commitIndex[n]
          /\ lastIndex'[n] = i
          /\ lastTerm'[n] = st
          /\ commitIndex'[n] = i
          /\ appliedIndex'[n] = i
          /\ snapIndex'[n] = i

\* Responses to a leader (append_resp, heartbeat_resp): a later term makes
\* n a follower; otherwise only a leader's commit index moves, to an index
\* a quorum acknowledged.
HandleResponse(n, m, t) ==
    /\ n \in up
    /\ Frame(n)
    /\ LogUnchanged(n)
    /\ appliedIndex'[n] = appliedIndex[n]
    /\ snapIndex'[n] = snapIndex[n]
    /\ config'[n] = config[n]
    /\ IF t > currentTerm[n] /\ currentTerm'[n] # currentTerm[n]
       THEN FollowTerm(n, t) /\ commitIndex'[n] = commitIndex[n]
       ELSE ElectionUnchanged(n) /\ LeaderCommit(n)

\* Leader transfer reaches its target: campaign at once, skipping PreVote.
HandleTimeoutNow(n, m, t) ==
    /\ n \in up
    /\ Frame(n)
    /\ AppliedUnchanged(n)
    /\ \/ NodeUnchanged(n)
       \/ FollowTerm(n, t) /\ LogUnchanged(n)
       \/ t >= currentTerm[n] /\ StartElection(n, Max(currentTerm[n], t))

\* Time passes: a follower or candidate may start a (pre-)campaign, a
\* leader may step down (CheckQuorum).
Tick(n) ==
    /\ n \in up
    /\ Frame(n)
    /\ AppliedUnchanged(n)
    /\ \/ NodeUnchanged(n)
       \/ Campaign(n)
       \/ /\ role[n] = "leader"
          /\ role'[n] = "follower"
          /\ currentTerm'[n] = currentTerm[n]
          /\ votedFor'[n] = votedFor[n]
          /\ LogUnchanged(n)

ForceCampaign(n) ==
    /\ n \in up
    /\ Frame(n)
    /\ AppliedUnchanged(n)
    /\ NodeUnchanged(n) \/ Campaign(n)

\* A client command or a configuration change: a leader appends one entry
\* of its term; anyone else refuses it.
Propose(n) ==
    /\ n \in up
    /\ Frame(n)
    /\ ElectionUnchanged(n)
    /\ AppliedUnchanged(n)
    /\ lastIndex'[n] \in {lastIndex[n], lastIndex[n] + 1}
    /\ lastIndex'[n] # lastIndex[n] => role[n] = "leader" /\ lastTerm'[n] = currentTerm[n]
    /\ lastIndex'[n] = lastIndex[n] => lastTerm'[n] = lastTerm[n]

\* A configuration change of k items (0: leave a joint configuration): as
\* Propose, and a leader takes a change (other than leaving) only once it
\* has committed an entry of its own term, so that no uncommitted change of
\* an earlier term lies below it (Ongaro, raft-dev, 2015).
ProposeConf(n, k) ==
    /\ Propose(n)
    /\ (lastIndex'[n] # lastIndex[n] /\ k > 0) => commitTerm[n] \in {currentTerm[n], Unknown}

\* Steps that change nothing spec-visible, or (a leader's own write done)
\* only a leader's commit index.
Persisted(n) ==
    /\ n \in up
    /\ Frame(n)
    /\ ElectionUnchanged(n)
    /\ LogUnchanged(n)
    /\ appliedIndex'[n] = appliedIndex[n]
    /\ snapIndex'[n] = snapIndex[n]
    /\ config'[n] = config[n]
    /\ LeaderCommit(n)

Quiet(n) ==
    /\ n \in up
    /\ Frame(n)
    /\ NodeUnchanged(n)

\* The state machine applied up to i (committed): a configuration entry
\* among them changes n's configuration; a leader that applies its own
\* removal steps down, one that applies an automatic joint change appends
\* the entry that leaves it, and one whose quorum the new configuration
\* changed may commit what that quorum acknowledged.
Applied(n, i) ==
    /\ n \in up
    /\ Frame(n)
    /\ i <= commitIndex[n]
    /\ appliedIndex'[n] = Max(appliedIndex[n], i)
    /\ config'[n] # config[n] => appliedIndex'[n] > appliedIndex[n]
    /\ LeaderCommit(n)
    /\ snapIndex'[n] = snapIndex[n]
    /\ currentTerm'[n] = currentTerm[n]
    /\ votedFor'[n] = votedFor[n]
    /\ role'[n] \in {role[n], IF role[n] = "leader" THEN "follower" ELSE role[n]}
    /\ lastIndex'[n] \in {lastIndex[n], lastIndex[n] + 1}
    /\ lastIndex'[n] # lastIndex[n] => role[n] = "leader" /\ lastTerm'[n] = currentTerm[n]
    /\ lastIndex'[n] = lastIndex[n] => lastTerm'[n] = lastTerm[n]

\* The state machine took a snapshot at i (applied): the log is compacted.
Compact(n, i) ==
    /\ n \in up
    /\ Frame(n)
    /\ ElectionUnchanged(n)
    /\ LogUnchanged(n)
    /\ i <= appliedIndex[n]
    /\ snapIndex'[n] = Max(snapIndex[n], i)
    /\ commitIndex'[n] = commitIndex[n]
    /\ appliedIndex'[n] = appliedIndex[n]
    /\ config'[n] = config[n]

\* A node starts for the first time, a follower of term 0 with no vote.
Boot(n) ==
    /\ n \notin Server
    /\ DOMAIN currentTerm' = Server \cup {n}
    /\ up' = up \cup {n}
    /\ \A v \in Server :
        /\ currentTerm'[v] = currentTerm[v]
        /\ role'[v] = role[v]
        /\ votedFor'[v] = votedFor[v]
        /\ commitIndex'[v] = commitIndex[v]
        /\ appliedIndex'[v] = appliedIndex[v]
        /\ lastIndex'[v] = lastIndex[v]
        /\ lastTerm'[v] = lastTerm[v]
        /\ snapIndex'[v] = snapIndex[v]
        /\ commitTerm'[v] = commitTerm[v]
        /\ config'[v] = config[v]
        /\ uncommittedConfs'[v] = uncommittedConfs[v]
        /\ durable'[v] = durable[v]
    /\ currentTerm'[n] = 0
    /\ votedFor'[n] = Nil
    /\ role'[n] = "follower"

\* A node's process dies: it keeps its state, and leaves up.
Crash(n) ==
    /\ n \in up
    /\ up' = up \ {n}
    /\ DOMAIN currentTerm' = Server
    /\ UNCHANGED <<currentTerm, role, votedFor, commitIndex, appliedIndex,
                   lastIndex, lastTerm, snapIndex, commitTerm, config, uncommittedConfs,
                   durable>>

\* A crashed node restarts from what reached its disk: a follower, in a term
\* no later than the one it had (the restart's volatile state is reset).
\* A vote that its messages promised (pt, pv: its last vote_req as a
\* candidate, or granted vote_resp, before the crash) was on its disk before
\* it was sent (Raft, Figure 2), so the restart comes back with it.
Restart(n, pt, pv) ==
    /\ n \in Server
    /\ n \notin up
    /\ up' = up \cup {n}
    /\ DOMAIN currentTerm' = Server
    /\ \A v \in Server \ {n} :
        /\ currentTerm'[v] = currentTerm[v]
        /\ role'[v] = role[v]
        /\ votedFor'[v] = votedFor[v]
        /\ commitIndex'[v] = commitIndex[v]
        /\ appliedIndex'[v] = appliedIndex[v]
        /\ lastIndex'[v] = lastIndex[v]
        /\ lastTerm'[v] = lastTerm[v]
        /\ snapIndex'[v] = snapIndex[v]
        /\ commitTerm'[v] = commitTerm[v]
        /\ config'[v] = config[v]
        /\ uncommittedConfs'[v] = uncommittedConfs[v]
        /\ durable'[v] = durable[v]
    /\ role'[n] = "follower"
    /\ currentTerm'[n] <= currentTerm[n]
    /\ currentTerm'[n] >= pt
    /\ currentTerm'[n] = pt => votedFor'[n] = pv

=============================================================================
