"""Platform requests followed by QN (HJ 212-2017 §6.2, §6.5, Table 1).

A request goes out and waits ``overtime`` seconds for the station's 9011; without one it
is sent again (same bytes, same QN) up to ``recount`` times, then it has timed out.
After 9011 with QnRtn=1 the station executes: data frames may come (with the request's
QN, or with new QNs for history data) until 9012 closes it; the execution timeout is
``overtime`` again, restarted by every data frame. A notification (2012, 2022) waits
for 9013 the same way. Time is the caller's ``now`` in seconds: nothing here reads a clock.

A frame counts for a request only when it carries the request's MN and PW: the station
answers "with the same PW and MN" (HJ 212-2017 Tables C.1-C.50), so a 9011/9012 with any
other password is not the station's answer and cannot finish, accept or fail a command.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protocol.codes import Cn
from protocol.events import Message, Reply, RequestFinished

ACK_MODE = "ack-mode"  # on_message: the frame belongs to a flow whose request asked for answers
AWAIT_ANSWER = "await-9011"
AWAIT_RESULT = "await-9012"
AWAIT_NOTICE = "await-9013"


@dataclass
class Pending:
    qn: str
    cn: str
    wire: bytes
    state: str
    deadline: float
    overtime: float
    recount: int
    ack_mode: bool = False
    station: tuple[str | None, str | None] = (None, None)  # (MN, PW) the answers must carry
    attempts: int = 1
    qn_rtn: int | None = None
    responses: list[Message] = field(default_factory=list)

    def finish(self, outcome: str, exe_rtn: int | None = None) -> RequestFinished:
        return RequestFinished(
            qn=self.qn,
            cn=self.cn,
            outcome=outcome,
            qn_rtn=self.qn_rtn,
            exe_rtn=exe_rtn,
            attempts=self.attempts,
            responses=tuple(self.responses),
            ack_mode=self.ack_mode,
        )


class RequestTracker:
    def __init__(self) -> None:
        self.pending: dict[str, Pending] = {}

    def start(
        self,
        qn: str,
        cn: str,
        wire: bytes,
        *,
        notify: bool,
        now: float,
        overtime: float,
        recount: int,
        ack_mode: bool = False,
        mn: str | None = None,
        pw: str | None = None,
    ) -> None:
        state = AWAIT_NOTICE if notify else AWAIT_ANSWER
        self.pending[qn] = Pending(
            qn, cn, wire, state, now + overtime, overtime, recount, ack_mode, (mn, pw)
        )

    def on_message(self, message: Message, now: float) -> RequestFinished | bool | str:
        """Feed a received frame: a finished request; ACK_MODE if it belongs to a flow in
        ack mode; True if it belongs to one otherwise; else False."""
        if isinstance(message, Reply):
            return self._on_reply(message, now)
        # data inside a request flow: same QN (gets), or the same CN while executing
        entry = self.pending.get(message.qn or "")
        if entry is None:
            entry = next(
                (
                    p
                    for p in self.pending.values()
                    if p.state == AWAIT_RESULT and p.cn == message.cn
                ),
                None,
            )
        if (
            entry is None
            or entry.state != AWAIT_RESULT
            or entry.station != (message.mn, message.pw)
        ):
            return False
        entry.responses.append(message)
        entry.deadline = now + entry.overtime
        return ACK_MODE if entry.ack_mode else True

    def _on_reply(self, reply: Reply, now: float) -> RequestFinished | bool | str:
        entry = self.pending.get(reply.answers_qn or "")
        if entry is None or entry.station != (reply.mn, reply.pw):
            return False
        if reply.cn == Cn.REQUEST_ANSWER and entry.state == AWAIT_ANSWER:
            entry.qn_rtn = reply.qn_rtn
            if reply.qn_rtn != 1:
                del self.pending[entry.qn]
                return entry.finish("rejected")
            entry.state = AWAIT_RESULT
            entry.deadline = now + entry.overtime
            return True
        if reply.cn == Cn.RESULT and entry.state in (AWAIT_ANSWER, AWAIT_RESULT):
            del self.pending[entry.qn]
            return entry.finish("ok" if reply.exe_rtn == 1 else "failed", reply.exe_rtn)
        if reply.cn == Cn.NOTIFY_ANSWER and entry.state == AWAIT_NOTICE:
            del self.pending[entry.qn]
            return entry.finish("ok")
        return True

    def tick(self, now: float) -> tuple[list[bytes], list[RequestFinished]]:
        """Resends due now, and requests that ran out of time."""
        resend: list[bytes] = []
        finished: list[RequestFinished] = []
        for qn, entry in list(self.pending.items()):
            if now < entry.deadline:
                continue
            if entry.state != AWAIT_RESULT and entry.attempts <= entry.recount:
                entry.attempts += 1
                entry.deadline = now + entry.overtime
                resend.append(entry.wire)
                continue
            del self.pending[qn]
            finished.append(entry.finish("timeout"))
        return resend, finished
