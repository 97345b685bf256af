from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChangeOp(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANGE_OP_UNSPECIFIED: _ClassVar[ChangeOp]
    CHANGE_OP_ADD_VOTER: _ClassVar[ChangeOp]
    CHANGE_OP_ADD_LEARNER: _ClassVar[ChangeOp]
    CHANGE_OP_REMOVE: _ClassVar[ChangeOp]

class Transition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSITION_AUTO: _ClassVar[Transition]
    TRANSITION_JOINT: _ClassVar[Transition]
    TRANSITION_JOINT_EXPLICIT: _ClassVar[Transition]

class ProgressState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROGRESS_STATE_UNSPECIFIED: _ClassVar[ProgressState]
    PROGRESS_STATE_PROBE: _ClassVar[ProgressState]
    PROGRESS_STATE_REPLICATE: _ClassVar[ProgressState]
    PROGRESS_STATE_SNAPSHOT: _ClassVar[ProgressState]

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_FOLLOWER: _ClassVar[Role]
    ROLE_PRE_CANDIDATE: _ClassVar[Role]
    ROLE_CANDIDATE: _ClassVar[Role]
    ROLE_LEADER: _ClassVar[Role]
CHANGE_OP_UNSPECIFIED: ChangeOp
CHANGE_OP_ADD_VOTER: ChangeOp
CHANGE_OP_ADD_LEARNER: ChangeOp
CHANGE_OP_REMOVE: ChangeOp
TRANSITION_AUTO: Transition
TRANSITION_JOINT: Transition
TRANSITION_JOINT_EXPLICIT: Transition
PROGRESS_STATE_UNSPECIFIED: ProgressState
PROGRESS_STATE_PROBE: ProgressState
PROGRESS_STATE_REPLICATE: ProgressState
PROGRESS_STATE_SNAPSHOT: ProgressState
ROLE_UNSPECIFIED: Role
ROLE_FOLLOWER: Role
ROLE_PRE_CANDIDATE: Role
ROLE_CANDIDATE: Role
ROLE_LEADER: Role

class NodeAddress(_message.Message):
    __slots__ = ("peer", "admin", "http")
    PEER_FIELD_NUMBER: _ClassVar[int]
    ADMIN_FIELD_NUMBER: _ClassVar[int]
    HTTP_FIELD_NUMBER: _ClassVar[int]
    peer: str
    admin: str
    http: str
    def __init__(self, peer: _Optional[str] = ..., admin: _Optional[str] = ..., http: _Optional[str] = ...) -> None: ...

class ChangeItem(_message.Message):
    __slots__ = ("op", "node_id", "address")
    OP_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    op: ChangeOp
    node_id: int
    address: NodeAddress
    def __init__(self, op: _Optional[_Union[ChangeOp, str]] = ..., node_id: _Optional[int] = ..., address: _Optional[_Union[NodeAddress, _Mapping]] = ...) -> None: ...

class AddLearnerRequest(_message.Message):
    __slots__ = ("node_id", "address")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    address: NodeAddress
    def __init__(self, node_id: _Optional[int] = ..., address: _Optional[_Union[NodeAddress, _Mapping]] = ...) -> None: ...

class PromoteRequest(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    def __init__(self, node_id: _Optional[int] = ...) -> None: ...

class RemoveNodeRequest(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    def __init__(self, node_id: _Optional[int] = ...) -> None: ...

class ChangeMembershipRequest(_message.Message):
    __slots__ = ("changes", "transition")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    TRANSITION_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[ChangeItem]
    transition: Transition
    def __init__(self, changes: _Optional[_Iterable[_Union[ChangeItem, _Mapping]]] = ..., transition: _Optional[_Union[Transition, str]] = ...) -> None: ...

class LeaveJointRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ChangeReply(_message.Message):
    __slots__ = ("index", "term", "configuration")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    CONFIGURATION_FIELD_NUMBER: _ClassVar[int]
    index: int
    term: int
    configuration: Configuration
    def __init__(self, index: _Optional[int] = ..., term: _Optional[int] = ..., configuration: _Optional[_Union[Configuration, _Mapping]] = ...) -> None: ...

class CaughtUpRequest(_message.Message):
    __slots__ = ("node_id", "max_lag")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_LAG_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    max_lag: int
    def __init__(self, node_id: _Optional[int] = ..., max_lag: _Optional[int] = ...) -> None: ...

class CaughtUpReply(_message.Message):
    __slots__ = ("match", "commit", "lag", "recent_active", "caught_up")
    MATCH_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    LAG_FIELD_NUMBER: _ClassVar[int]
    RECENT_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CAUGHT_UP_FIELD_NUMBER: _ClassVar[int]
    match: int
    commit: int
    lag: int
    recent_active: bool
    caught_up: bool
    def __init__(self, match: _Optional[int] = ..., commit: _Optional[int] = ..., lag: _Optional[int] = ..., recent_active: _Optional[bool] = ..., caught_up: _Optional[bool] = ...) -> None: ...

class TransferLeaderRequest(_message.Message):
    __slots__ = ("target_id",)
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    target_id: int
    def __init__(self, target_id: _Optional[int] = ...) -> None: ...

class TransferLeaderReply(_message.Message):
    __slots__ = ("leader_id", "term")
    LEADER_ID_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    leader_id: int
    term: int
    def __init__(self, leader_id: _Optional[int] = ..., term: _Optional[int] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Configuration(_message.Message):
    __slots__ = ("voters", "outgoing", "learners", "learners_next", "joint", "auto_leave")
    VOTERS_FIELD_NUMBER: _ClassVar[int]
    OUTGOING_FIELD_NUMBER: _ClassVar[int]
    LEARNERS_FIELD_NUMBER: _ClassVar[int]
    LEARNERS_NEXT_FIELD_NUMBER: _ClassVar[int]
    JOINT_FIELD_NUMBER: _ClassVar[int]
    AUTO_LEAVE_FIELD_NUMBER: _ClassVar[int]
    voters: _containers.RepeatedScalarFieldContainer[int]
    outgoing: _containers.RepeatedScalarFieldContainer[int]
    learners: _containers.RepeatedScalarFieldContainer[int]
    learners_next: _containers.RepeatedScalarFieldContainer[int]
    joint: bool
    auto_leave: bool
    def __init__(self, voters: _Optional[_Iterable[int]] = ..., outgoing: _Optional[_Iterable[int]] = ..., learners: _Optional[_Iterable[int]] = ..., learners_next: _Optional[_Iterable[int]] = ..., joint: _Optional[bool] = ..., auto_leave: _Optional[bool] = ...) -> None: ...

class PeerProgress(_message.Message):
    __slots__ = ("node_id", "match", "next", "state", "inflight", "recent_active")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    MATCH_FIELD_NUMBER: _ClassVar[int]
    NEXT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    INFLIGHT_FIELD_NUMBER: _ClassVar[int]
    RECENT_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    match: int
    next: int
    state: ProgressState
    inflight: int
    recent_active: bool
    def __init__(self, node_id: _Optional[int] = ..., match: _Optional[int] = ..., next: _Optional[int] = ..., state: _Optional[_Union[ProgressState, str]] = ..., inflight: _Optional[int] = ..., recent_active: _Optional[bool] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ("node_id", "address")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    address: NodeAddress
    def __init__(self, node_id: _Optional[int] = ..., address: _Optional[_Union[NodeAddress, _Mapping]] = ...) -> None: ...

class Status(_message.Message):
    __slots__ = ("node_id", "role", "term", "leader_id", "leader_address", "commit", "applied", "last_index", "configuration", "progress", "members", "faults")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    LEADER_ID_FIELD_NUMBER: _ClassVar[int]
    LEADER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    LAST_INDEX_FIELD_NUMBER: _ClassVar[int]
    CONFIGURATION_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    role: Role
    term: int
    leader_id: int
    leader_address: str
    commit: int
    applied: int
    last_index: int
    configuration: Configuration
    progress: _containers.RepeatedCompositeFieldContainer[PeerProgress]
    members: _containers.RepeatedCompositeFieldContainer[Member]
    faults: _containers.RepeatedCompositeFieldContainer[PeerFaults]
    def __init__(self, node_id: _Optional[int] = ..., role: _Optional[_Union[Role, str]] = ..., term: _Optional[int] = ..., leader_id: _Optional[int] = ..., leader_address: _Optional[str] = ..., commit: _Optional[int] = ..., applied: _Optional[int] = ..., last_index: _Optional[int] = ..., configuration: _Optional[_Union[Configuration, _Mapping]] = ..., progress: _Optional[_Iterable[_Union[PeerProgress, _Mapping]]] = ..., members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., faults: _Optional[_Iterable[_Union[PeerFaults, _Mapping]]] = ...) -> None: ...

class PeerFaults(_message.Message):
    __slots__ = ("peer_id", "drop", "delay_ms", "jitter_ms", "block_out", "block_in")
    PEER_ID_FIELD_NUMBER: _ClassVar[int]
    DROP_FIELD_NUMBER: _ClassVar[int]
    DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    JITTER_MS_FIELD_NUMBER: _ClassVar[int]
    BLOCK_OUT_FIELD_NUMBER: _ClassVar[int]
    BLOCK_IN_FIELD_NUMBER: _ClassVar[int]
    peer_id: int
    drop: float
    delay_ms: float
    jitter_ms: float
    block_out: bool
    block_in: bool
    def __init__(self, peer_id: _Optional[int] = ..., drop: _Optional[float] = ..., delay_ms: _Optional[float] = ..., jitter_ms: _Optional[float] = ..., block_out: _Optional[bool] = ..., block_in: _Optional[bool] = ...) -> None: ...

class SetFaultsRequest(_message.Message):
    __slots__ = ("heal", "faults")
    HEAL_FIELD_NUMBER: _ClassVar[int]
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    heal: bool
    faults: _containers.RepeatedCompositeFieldContainer[PeerFaults]
    def __init__(self, heal: _Optional[bool] = ..., faults: _Optional[_Iterable[_Union[PeerFaults, _Mapping]]] = ...) -> None: ...

class SetFaultsReply(_message.Message):
    __slots__ = ("faults",)
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    faults: _containers.RepeatedCompositeFieldContainer[PeerFaults]
    def __init__(self, faults: _Optional[_Iterable[_Union[PeerFaults, _Mapping]]] = ...) -> None: ...
