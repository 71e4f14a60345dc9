"""Rows of every table for a chunk of drawn tickets, as PostgreSQL COPY text.

`Renderer.render` walks each ticket's life step by step as the real actions would take it
(`minyi.tickets.actions`, `sla.actions`, `feedback.actions`, the deadline and rating-window
jobs) and writes what they write: the ticket row as it stands at "now", one timeline event per
step with the same kind, actor, role, statuses, note and data, the replies, ratings,
extensions, supervision orders and reviews. A step later than "now" is not taken, so old
tickets are closed and recent ones are open wherever their life has got to. Deadlines and
clocks are counted by `worktime` with the platform's rules (`sla.policies`,
`dispatch.timing`, `sla.services`); tests check them against those functions.

Timestamps are whole seconds; a ticket's events are at least a second apart and in order.
Rows are strings in COPY's text format (tab-separated, ``\\N`` for NULL); `sqlite_rows` turns
them into parameters for SQLite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from minyi.generate import draw, worktime
from minyi.generate.reference import Person, Reference, json_text
from minyi.generate.texts import ALL_TEMPLATES, HOTLINE_PREFIX, Variant, copy_escape
from minyi.generate.worktime import (
    DAY,
    LOCAL_OFFSET,
    OFFICE_SECONDS,
    WorkTime,
    after_platform,
    after_waking,
    end_of_day,
    local_day,
)
from minyi.org.demo import history
from minyi.sla.policies import redo_working_days
from minyi.tickets.codes import number_prefix

NULL = "\\N"
#: The value of `Ticket.access_code_hash` of generated tickets: no access code exists (it
#: matches no code, like Django's unusable passwords), and `--reset` finds them by it.
GENERATED_MARK = "!generated"
#: Columns of each table, in the order the renderer writes them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "ticket": (
        "id", "number", "channel", "status", "anonymous", "requester_kind", "requester_name",
        "requester_phone", "requester_phone_hash", "requester_id_number", "enterprise_name",
        "enterprise_credit_code", "requester_email", "contact_allowed", "access_code_hash", "type",
        "urgent", "category_id", "district_id", "street_id", "address", "latitude", "longitude", "title",
        "text", "lead_unit_id", "created_at", "time_limit_days", "extended_days", "due_at",
        "due_provisional", "unit_due_at", "unit_due_provisional", "dispatched_at", "signed_at",
        "sign_due_at", "signed_late", "return_due_at", "forced_dispatch", "assist_due_at", "replied_at",
        "rating_due_at", "redo_count", "closed_at", "created_by_id", "merged_into_id",
    ),
    "event": (
        "id", "ticket_id", "actor_id", "actor_role", "actor_label", "kind", "unit_id", "from_status",
        "to_status", "note", "data", "public", "created_at",
    ),
    "reply": (
        "id", "ticket_id", "text", "unit_id", "author_id", "direct", "outcome_id", "state", "round",
        "approved_by_id", "approved_at", "published_at", "created_at",
    ),
    "rating": ("id", "ticket_id", "reply_id", "rating", "comment", "recorded_by_id", "visit_note", "created_at"),
    "extension": (
        "id", "ticket_id", "reason_id", "working_days", "explanation", "status", "requested_by_id",
        "requested_at", "decided_by_id", "decided_at", "decision_note", "old_due_at", "new_due_at",
    ),
    "order": (
        "id", "ticket_id", "cause", "milestone_id", "unit_id", "level", "status", "opened_at", "due_at",
        "escalated_at", "closed_at", "close_reason", "reason", "answer", "answered_at", "answered_by_id",
        "opened_by_id",
    ),
    "review": (
        "id", "ticket_id", "rating_id", "unit_id", "decision", "explanation", "round", "redo_due_at",
        "reviewer_id", "decided_at",
    ),
}
DISPATCH_NOTES = ("", "", "请按时限办理并答复诉求人。", "请核实情况后依法依规处理。")
URGENT_NOTE = "加急件，请立即处置并于24小时内答复。"
REDISPATCH_NOTE = "经研判，退单理由成立，改派承办。"
REFUSAL_NOTE = "理由不充分，请按原时限办结。"
APPROVAL_NOTE = "同意，请按时落实。"
REDO_RATING_COMMENT = "重办后问题解决了。"
SCAN_SECONDS = 300  # the deadline job runs every five minutes


def _actor(person: Person, role: str) -> str:
    """The actor columns of an event (actor_id, actor_role, actor_label)."""
    return f"{person.id}\t{role}\t{person.label}"


SYSTEM = f"{NULL}\tsystem\tsystem"
PUBLIC = f"{NULL}\tpublic\tpublic"
REQUESTER = f"{NULL}\trequester\trequester"


@dataclass(frozen=True)
class Pools:
    """Pre-sealed personal data: sealing is ~µs a value, and synthetic requesters may share
    them. Names and phones are drawn independently; each phone comes with its keyed hash."""

    names: Sequence[str]
    phones: Sequence[tuple[str, str]]  # (sealed, hash)
    emails: Sequence[str]
    companies: Sequence[tuple[str, str]]  # (name, unified social credit code)
    addresses: Sequence[str]  # sealed address of each variant ("" for none)


def build_pools(seed: int, variants: Sequence[Variant], *, sizes: tuple[int, int, int, int] | None = None) -> Pools:
    """Made-up names, phones, e-mails and enterprises (deterministic by `seed`, sealed now)."""
    import random

    from minyi.privacy import crypto
    from minyi.tickets.models import Ticket

    names_n, phones_n, emails_n, companies_n = sizes or (draw.NAME_POOL, draw.PHONE_POOL, draw.EMAIL_POOL,
                                                         draw.COMPANY_POOL)
    rng = random.Random(f"minyi-generate-people-{seed}")
    field = {f.name: f.associated_data for f in Ticket._meta.concrete_fields if hasattr(f, "associated_data")}
    names = [
        crypto.seal(history.person_name(rng, formal=rng.random() >= 0.35), field["requester_name"])
        for _ in range(names_n)
    ]
    phones = []
    for _ in range(phones_n):
        number = history.phone_number(rng)
        phones.append((crypto.seal(number, field["requester_phone"]), crypto.phone_hash(number)))
    emails = [
        crypto.seal(f"{rng.choice('abcdefghjkmnpqrstwxyz')}{rng.randrange(10**6, 10**9)}@"
                    f"{rng.choice(('qq.com', '163.com', '126.com', 'foxmail.com', 'sina.com'))}",
                    field["requester_email"])
        for _ in range(emails_n)
    ]
    companies = [
        (copy_escape(f"深圳市{rng.choice(history.WORDS)}{rng.choice(history.INDUSTRIES)}有限公司"),
         history.credit_code(rng))
        for _ in range(companies_n)
    ]
    addresses = [crypto.seal(v.address, field["address"]) if v.address else "" for v in variants]
    return Pools(names, phones, emails, companies, addresses)


class Clock:
    """Timestamps as text: UTC for the columns (``+00`` on PostgreSQL, naive on SQLite, as
    Django stores them), Asia/Shanghai ISO 8601 for event data (as the actions write it)."""

    def __init__(self, first_day: int, last_day: int, *, utc_suffix: str) -> None:
        self.base = first_day - 2
        span = range(self.base, last_day + 3)
        self.days = [f"{worktime.to_date(d):%Y-%m-%d} " for d in span]
        self.iso_days = [f"{worktime.to_date(d):%Y-%m-%d}T" for d in span]
        self.numbers = [number_prefix(worktime.to_date(d)) for d in span]
        self.times = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{utc_suffix}" for s in range(DAY)]
        self.iso_times = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+08:00" for s in range(DAY)]

    def ts(self, moment: int) -> str:
        return self.days[moment // DAY - self.base] + self.times[moment % DAY]

    def iso(self, moment: int) -> str:
        local = moment + LOCAL_OFFSET
        return self.iso_days[local // DAY - self.base] + self.iso_times[local % DAY]

    def number(self, day: int, seq: int) -> str:
        return f"{self.numbers[day - self.base]}{seq:06d}"


class Renderer:
    def __init__(self, ref: Reference, variants: Sequence[Variant], pools: Pools, wt: WorkTime,
                 clock: Clock, now: int) -> None:
        self.ref, self.pools, self.wt, self.clock, self.now = ref, pools, wt, clock, now
        self.agents = [_actor(p, "intake_agent") for p in ref.agents]
        self.agent_ids = [p.id for p in ref.agents]
        self.agent_cum = _cumulative(ref.agent_weights)
        self.dispatchers = [_actor(p, "dispatcher") for p in ref.dispatchers]
        self.dispatcher_ids = [p.id for p in ref.dispatchers]
        self.dispatcher_cum = _cumulative(ref.dispatcher_weights)
        self.supervisor = _actor(ref.supervisor, "supervisor")
        self.supervisor_id = ref.supervisor.id
        self.handlers = {u: [(_actor(p, "handler"), p.id) for p in people] for u, people in ref.handlers.items()}
        self.leaders = {u: [(_actor(p, "unit_leader"), p.id) for p in people] for u, people in ref.leaders.items()}
        self.outcomes = [ref.outcomes[code] for code in draw.OUTCOMES]
        self.reasons = [(code, ref.extension_reasons[code], copy_escape(text))
                        for code, text in history.EXTENSION_REASONS]
        self.comments = {r: [copy_escape(c) for c in history.RATING_COMMENTS[r]] for r in draw.RATINGS}
        self.redo_notes = [copy_escape(n) for n in history.REDO_NOTES]
        self.redo_replies = [copy_escape(n) for n in history.REDO_REPLIES]
        self.close_notes = [copy_escape(n) for n in history.REVIEW_CLOSE_NOTES]
        self.dispatcher_close = copy_escape(history.UNRATED_CLOSE["dispatcher"])
        self.legal_basis = json_text(history.DEMO_LEGAL_BASIS)
        self.variants = [self._variant(v, pools.addresses[k]) for k, v in enumerate(variants)]
        self.level_days, self.level_name = ref.level_one

    def _variant(self, v: Variant, address: str) -> tuple[Any, ...]:
        ref = self.ref
        template = ALL_TEMPLATES[v.template]
        right, (wrong_code, reason, note) = ref.units[v.unit], v.wrong
        days, urgent_hours = ref.limits[(template.type, template.category)]
        return (
            v.title, v.text, copy_escape(HOTLINE_PREFIX) + v.text, address,
            v.latitude or NULL, v.longitude or NULL, v.answer, v.replies,
            right, ref.unit_names[right], ref.units[wrong_code], ref.unit_names[ref.units[wrong_code]],
            reason, ref.return_reasons[reason], copy_escape(note),
            ref.categories[template.category], ref.districts[v.district],
            ref.streets[v.district][v.street] if v.street >= 0 else NULL,
            template.type, days, urgent_hours, "{year}" in v.title,
        )

    def render(self, chunk: draw.Chunk) -> tuple[dict[str, list[str]], list[int]]:
        """(COPY lines of each table, rows of each table) for `chunk`."""
        a = {k: v.tolist() for k, v in chunk.arrays.items() if k not in ("uniforms", "rows")}
        uniforms = chunk.arrays["uniforms"].tolist()
        out: dict[str, list[str]] = {t: [] for t in draw.TABLES}
        tickets, events, replies, ratings = out["ticket"], out["event"], out["reply"], out["rating"]
        extensions, orders, reviews = out["extension"], out["order"], out["review"]
        ids = list(chunk.bases)
        ref, wt, clock, now, pools = self.ref, self.wt, self.clock, self.now, self.pools
        ts, iso = clock.ts, clock.iso
        office_clock, office_at = wt.office_clock, wt.office_at
        dispatch_clock, dispatch_at = wt.dispatch_clock, wt.dispatch_at
        add_wd, deadline = wt.add_working_days, wt.deadline
        channels = draw.CHANNELS
        rating_days, sign_seconds = ref.rating_days, ref.sign_minutes * 60
        sign_urgent, return_seconds = ref.sign_urgent_minutes * 60, ref.return_hours * 3600
        assist_days = ref.assist_days
        unrated_note, overdue_label = copy_escape(ref.unrated_note), json_text(ref.overdue_label)
        handled = copy_escape(ref.handled_reason)
        level_days, level_name = self.level_days, self.level_name

        def event(tid: int, kind: str, actor: str, unit: Any, before: str, after: str, note: str, data: str,
                  public: bool, moment: int) -> None:
            events.append(
                f"{ids[1]}\t{tid}\t{actor}\t{kind}\t{unit}\t{before}\t{after}\t{note}\t{data}\t"
                f"{'t' if public else 'f'}\t{ts(moment)}\n"
            )
            ids[1] += 1

        for i in range(len(a["created"])):
            u = uniforms[i]
            pick = a["pick"][i]
            tid = ids[0]
            ids[0] += 1
            (title, text, hotline_text, address, lat, lon, answer, reply_texts, right, right_name,
             wrong, wrong_name, reason, reason_name, return_note, category, district, street,
             kind, limit, urgent_hours, has_year) = self.variants[a["variant"][i]]
            t0 = a["created"][i]
            channel = channels[a["channel"][i]]
            hotline = channel == "hotline"
            urgent = a["urgent"][i]
            enterprise = a["enterprise"][i]
            agent_n = _choose(self.agent_cum, (pick & 0xFF) / 256)
            agent, agent_id = self.agents[agent_n], self.agent_ids[agent_n]
            dispatcher_n = _choose(self.dispatcher_cum, ((pick >> 8) & 0xFF) / 256)
            dispatcher, dispatcher_id = self.dispatchers[dispatcher_n], self.dispatcher_ids[dispatcher_n]
            if has_year:
                title = title.replace("{year}", str(worktime.to_date(local_day(t0)).year))
            if urgent:
                due, due_prov = t0 + urgent_hours * 3600, False
            else:
                due, due_prov = deadline(t0, limit)
            status = "submitted"
            lead: Any = NULL
            unit_name = NULL
            dispatched_at = signed_at = sign_due = return_due = assist_due = unit_due = NULL
            signed_late = NULL
            unit_prov = False
            replied_at = rating_due = closed_at = NULL
            redo_count, extended_days = 0, 0
            unit_due_s = sign_due_s = 0

            event(tid, "submit", agent if hotline else PUBLIC, NULL, "", "submitted", "",
                  f'{{"channel": "{channel}", "attachments": 0}}', True, t0)

            while True:  # one pass through the ticket's life; `break` where "now" stops it
                if a["direct"][i]:
                    t = t0 + 120 + int(u[0] * 960) if hotline else after_platform(t0, 1080 + u[0] * 16920)
                    if t > now:
                        break
                    actor, author = (agent, agent_id) if hotline else (dispatcher, dispatcher_id)
                    replies.append(f"{ids[2]}\t{tid}\t{answer}\t{NULL}\t{author}\tt\t{NULL}\tpublished\t0\t"
                                   f"{NULL}\t{NULL}\t{NULL}\t{ts(t)}\n")
                    ids[2] += 1
                    event(tid, "direct_answer", actor, NULL, "submitted", "closed", answer, "{}", True, t)
                    status, replied_at, closed_at = "closed", ts(t), ts(t)
                    break

                # Dispatch: to a wrong unit first for some, which returns the ticket.
                returned = a["returned"][i]
                t = t0 + 300 + int(u[0] * 900) if urgent else after_platform(t0, 360 + u[0] * 8640)
                if t > now:
                    break
                note = URGENT_NOTE if urgent else DISPATCH_NOTES[(pick >> 16) & 3]
                before, stopped = "submitted", False
                for attempt in range(2 if returned else 1):
                    target, target_name = (wrong, wrong_name) if returned and attempt == 0 else (right, right_name)
                    if urgent:
                        unit_due_s, unit_prov = t + urgent_hours * 3600, False
                        sign_due_s = t + sign_urgent
                    else:
                        unit_due_s, unit_prov = deadline(t, limit)
                        sign_due_s = dispatch_at(dispatch_clock(t) + sign_seconds)
                    return_due_s = dispatch_at(dispatch_clock(t) + return_seconds)
                    assist_due_s = min(end_of_day(add_wd(local_day(t), assist_days)), unit_due_s)
                    lead, unit_name, status = target, target_name, "dispatched"
                    dispatched_at, unit_due, sign_due = ts(t), ts(unit_due_s), ts(sign_due_s)
                    return_due, assist_due, signed_at, signed_late = ts(return_due_s), ts(assist_due_s), NULL, NULL
                    outcome = (f', "return_outcome": "upheld", "returned_unit_id": {wrong}'
                               if before == "returned" else "")
                    event(tid, "dispatch", dispatcher, lead, before, "dispatched", note,
                          f'{{"unit": "{unit_name}", "assisting": [], "unit_due_at": "{iso(unit_due_s)}", '
                          f'"sign_due_at": "{iso(sign_due_s)}", "return_due_at": "{iso(return_due_s)}"{outcome}}}',
                          True, t)
                    if returned and attempt == 0:
                        staff = self._staff(lead, pick, leader=False)
                        t = min(wt.after_office(t, 1080 + u[1] * 24120), return_due_s - 60)
                        if t > now:
                            stopped = True
                            break
                        event(tid, "return", staff[0], lead, "dispatched", "returned", return_note,
                              f'{{"reason_code": "{reason}", "reason": "{reason_name}", '
                              f'"legal_basis": "{self.legal_basis}"}}', False, t)
                        status, before = "returned", "returned"
                        t = after_platform(t, 720 + u[2] * 17280)
                        note = REDISPATCH_NOTE
                        if t > now:
                            stopped = True
                            break
                if stopped:
                    break

                # Sign for it: within the sign-for time, or late for a few.
                staff = self._staff(lead, pick, leader=False)
                if urgent:
                    t = t + 300 + int(u[3] * 1200)
                elif a["sign_late"][i]:
                    t = dispatch_at(dispatch_clock(t) + sign_seconds + 60 + int(u[3] * 14400))
                else:
                    t = dispatch_at(dispatch_clock(t) + 120 + int(u[3] * (sign_seconds - 300)))
                if t > now:
                    break
                late_sign = t > sign_due_s
                event(tid, "sign", staff[0], lead, "dispatched", "in_progress", "",
                      f'{{"late": {"true" if late_sign else "false"}}}', True, t)
                status, signed_at, signed_late = "in_progress", ts(t), "t" if late_sign else "f"

                # An application for more time, decided by a supervisor.
                extension = a["extension"][i]
                if extension:
                    code, (reason_id, reason_plain, reason_json), explanation = self.reasons[(pick >> 18) & 3]
                    days = a["extension_days"][i]
                    start = office_clock(t)
                    span = office_clock(min(due, unit_due_s)) - start
                    t = office_at(start + int((0.1 + 0.4 * u[4]) * span)) if span > 600 else t + 60
                    if t > now:
                        break
                    requested, ext_id = t, ids[4]
                    ids[4] += 1
                    event(tid, "request_extension", staff[0], lead, "in_progress", "in_progress", explanation,
                          f'{{"extension": {ext_id}, "reason": "{reason_json}", "working_days": {days}}}', False, t)
                    t = max(min(after_platform(t, 1800 + u[5] * 19800), min(due, unit_due_s) - 3600), t + 60)
                    if t > now:
                        extensions.append(f"{ext_id}\t{tid}\t{reason_id}\t{days}\t{explanation}\tpending\t"
                                          f"{staff[1]}\t{ts(requested)}\t{NULL}\t{NULL}\t\t{NULL}\t{NULL}\n")
                        break
                    if extension == 1:
                        old_due = due
                        due, due_prov = wt.extend(due, days)
                        unit_due_s, unit_prov = wt.extend(unit_due_s, days)
                        unit_due = ts(unit_due_s)
                        extended_days += days
                        local = dt.datetime.fromtimestamp(due + LOCAL_OFFSET, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")
                        notice = copy_escape(ref.extension_notice % {"n": days, "reason": reason_plain, "due": local})
                        event(tid, "extension_approved", self.supervisor, lead, "in_progress", "in_progress", notice,
                              f'{{"extension": {ext_id}, "working_days": {days}, "old_due_at": "{iso(old_due)}", '
                              f'"new_due_at": "{iso(due)}", "unit_due_at": "{iso(unit_due_s)}", "decision_note": ""}}',
                              True, t)
                        extensions.append(f"{ext_id}\t{tid}\t{reason_id}\t{days}\t{explanation}\tapproved\t"
                                          f"{staff[1]}\t{ts(requested)}\t{self.supervisor_id}\t{ts(t)}\t\t"
                                          f"{ts(old_due)}\t{ts(due)}\n")
                    else:
                        event(tid, "extension_refused", self.supervisor, lead, "in_progress", "in_progress",
                              REFUSAL_NOTE, f'{{"extension": {ext_id}}}', False, t)
                        extensions.append(f"{ext_id}\t{tid}\t{reason_id}\t{days}\t{explanation}\trefused\t"
                                          f"{staff[1]}\t{ts(requested)}\t{self.supervisor_id}\t{ts(t)}\t"
                                          f"{REFUSAL_NOTE}\t{NULL}\t{NULL}\n")

                # The reply: in time for most, after the deadline (and an overdue order) for a few.
                order = None
                if a["late"][i]:
                    opened = (unit_due_s // SCAN_SECONDS + 1) * SCAN_SECONDS + int(u[6] * 20)
                    reply_at = office_at(office_clock(unit_due_s) + 600 + int(u[7] * (OFFICE_SECONDS - 1200)))
                    if opened > now:
                        if reply_at <= now:  # cannot happen: the reply comes in office hours after
                            raise AssertionError("a late reply before its order")
                        break
                    order, order_due = ids[5], end_of_day(add_wd(local_day(opened), level_days))
                    ids[5] += 1
                    event(tid, "supervision_opened", SYSTEM, lead, "in_progress", "in_progress", overdue_label,
                          f'{{"order": {order}, "cause": "overdue", "level": 1, "level_name": "{level_name}", '
                          f'"milestone": null, "due_at": "{iso(order_due)}"}}', False, opened)
                    if reply_at > order_due:  # the order would escalate; the generator never lets it
                        raise AssertionError("a late reply after its order's deadline")
                elif urgent:
                    limit_at = min(due, unit_due_s)
                    reply_at = t + 60 + int(a["fraction"][i] * max(limit_at - t - 120, 0))
                else:
                    limit_at = min(due, unit_due_s)
                    start = office_clock(t)
                    span = office_clock(limit_at) - start
                    reply_at = max(min(office_at(start + 60 + int(a["fraction"][i] * max(span - 120, 0))), limit_at), t + 1)
                if reply_at > now:
                    if order is not None:
                        orders.append(f"{order}\t{tid}\toverdue\t{NULL}\t{lead}\t1\topen\t{ts(opened)}\t"
                                      f"{ts(order_due)}\t{NULL}\t{NULL}\t\t\t\t{NULL}\t{NULL}\t{NULL}\n")
                    break
                t = reply_at
                leader = a["leader"][i] and lead in self.leaders
                writer = self._staff(lead, pick, leader=leader)
                outcome_id, outcome_name = self.outcomes[a["outcome"][i]]
                outcome_code = draw.OUTCOMES[a["outcome"][i]]
                body = reply_texts[(pick >> 20) % len(reply_texts)]
                reply_id = ids[2]
                ids[2] += 1
                replies.append(f"{reply_id}\t{tid}\t{body}\t{lead}\t{writer[1]}\tf\t{outcome_id}\tpublished\t0\t"
                               f"{NULL}\t{NULL}\t{ts(t)}\t{ts(t)}\n")
                rating_due_s = end_of_day(add_wd(local_day(t), rating_days))
                event(tid, "reply", writer[0], lead, "in_progress", "replied", body,
                      f'{{"outcome": "{outcome_code}", "outcome_name": "{outcome_name}", "reply": {reply_id}, '
                      f'"round": 0, "attachments": 0}}', True, t)
                status, replied_at, rating_due = "replied", ts(t), ts(rating_due_s)
                if order is not None:
                    closes = (t // SCAN_SECONDS + 1) * SCAN_SECONDS + int(u[6] * 20)
                    if closes <= now:
                        event(tid, "supervision_closed", SYSTEM, lead, "replied", "replied", handled,
                              f'{{"order": {order}}}', False, closes)
                        orders.append(f"{order}\t{tid}\toverdue\t{NULL}\t{lead}\t1\tclosed\t{ts(opened)}\t"
                                      f"{ts(order_due)}\t{NULL}\t{ts(closes)}\t{handled}\t\t\t{NULL}\t{NULL}\t{NULL}\n")
                    else:
                        orders.append(f"{order}\t{tid}\toverdue\t{NULL}\t{lead}\t1\topen\t{ts(opened)}\t"
                                      f"{ts(order_due)}\t{NULL}\t{NULL}\t\t\t\t{NULL}\t{NULL}\t{NULL}\n")

                # The requester rates (or an agent records it on a return visit), or nobody does.
                if not a["rated"][i]:
                    if a["system_close"][i]:
                        t = rating_due_s + 60 + int(u[8] * 840)
                        closer, closer_unit, note, data = SYSTEM, lead, unrated_note, '{"unrated": true}'
                    else:
                        t = after_platform(t + 2 * DAY + int(u[8] * DAY), 360 + u[9] * 10440)
                        closer, closer_unit, note, data = dispatcher, NULL, self.dispatcher_close, "{}"
                    if t > now:
                        break
                    event(tid, "close", closer, closer_unit, "replied", "closed", note, data, True, t)
                    status, closed_at = "closed", ts(t)
                    break
                rating = draw.RATINGS[a["rating"][i]]
                visit = a["visit"][i]
                t = (after_platform if visit else after_waking)(t, 1080 + u[8] * 88920)
                if t > now:
                    break
                comments = self.comments[rating]
                comment = comments[(pick >> 4) % len(comments)]
                rating_id = ids[3]
                ids[3] += 1
                ratings.append(f"{rating_id}\t{tid}\t{reply_id}\t{rating}\t{comment}\t"
                               f"{agent_id if visit else NULL}\t\t{ts(t)}\n")
                after = "under_review" if rating == "dissatisfied" else "closed"
                event(tid, "rate", agent if visit else REQUESTER, NULL, "replied", after, comment,
                      f'{{"rating": "{rating}", "return_visit": {"true" if visit else "false"}, "reply": {reply_id}}}',
                      True, t)
                status = after
                if after == "closed":
                    closed_at = ts(t)
                    break

                # A dissatisfied rating is reviewed: redone by the unit, or closed.
                t = after_platform(t, 7200 + u[9] * 46800)
                if t > now:
                    break
                review_id = ids[6]
                ids[6] += 1
                if not a["redo"][i]:
                    note = self.close_notes[(pick >> 12) % len(self.close_notes)]
                    reviews.append(f"{review_id}\t{tid}\t{rating_id}\t{lead}\tclose\t{note}\t0\t{NULL}\t"
                                   f"{self.supervisor_id}\t{ts(t)}\n")
                    event(tid, "review", self.supervisor, lead, "under_review", "closed", note,
                          f'{{"decision": "close", "rating": {rating_id}}}', True, t)
                    status, closed_at = "closed", ts(t)
                    break
                note = self.redo_notes[(pick >> 12) % len(self.redo_notes)]
                redo_days = redo_working_days(limit + extended_days, ref.redo_fraction)
                redo_due = end_of_day(add_wd(local_day(t), redo_days))
                redo_prov = wt.unknown_from[wt.index(local_day(t))] <= local_day(redo_due)
                reviews.append(f"{review_id}\t{tid}\t{rating_id}\t{lead}\tredo\t{note}\t1\t{ts(redo_due)}\t"
                               f"{self.supervisor_id}\t{ts(t)}\n")
                event(tid, "review", self.supervisor, lead, "under_review", "in_progress", note,
                      f'{{"decision": "redo", "rating": {rating_id}, "round": 1, "due_at": "{iso(redo_due)}", '
                      f'"unit": "{unit_name}"}}', True, t)
                status, redo_count, rating_due = "in_progress", 1, NULL
                due, due_prov, unit_due_s, unit_prov = redo_due, redo_prov, redo_due, redo_prov
                unit_due = ts(redo_due)
                # Escalated handling: a handler writes the new reply, the leader approves it.
                start = office_clock(t)
                span = office_clock(redo_due) - start
                t = office_at(start + 60 + int((0.1 + 0.5 * u[10]) * max(span - 120, 0)))
                if t > now:
                    break
                handler = self._staff(lead, pick, leader=False)
                body = self.redo_replies[(pick >> 14) % len(self.redo_replies)]
                resolved_id = ref.outcomes["resolved"][0]
                second = ids[2]
                ids[2] += 1
                written = t
                event(tid, "reply", handler[0], lead, "in_progress", "pending_approval", body,
                      f'{{"outcome": "resolved", "outcome_name": "{ref.outcomes["resolved"][1]}", '
                      f'"reply": {second}, "round": 1, "attachments": 0, "pending_approval": true}}', False, t)
                status = "pending_approval"
                start = office_clock(t)
                t = max(office_at(start + int((0.05 + 0.45 * u[11]) * max(office_clock(redo_due) - start, 0))), t + 60)
                if t > now:
                    replies.append(f"{second}\t{tid}\t{body}\t{lead}\t{handler[1]}\tf\t{resolved_id}\t"
                                   f"pending_approval\t1\t{NULL}\t{NULL}\t{NULL}\t{ts(written)}\n")
                    break
                approver = self._staff(lead, pick, leader=True)
                replies.append(f"{second}\t{tid}\t{body}\t{lead}\t{handler[1]}\tf\t{resolved_id}\tpublished\t1\t"
                               f"{approver[1]}\t{ts(t)}\t{ts(t)}\t{ts(written)}\n")
                event(tid, "approve_reply", approver[0], lead, "pending_approval", "replied", body,
                      f'{{"reply": {second}, "approval_note": "{APPROVAL_NOTE}", "outcome": "resolved"}}', True, t)
                status, replied_at = "replied", ts(t)
                rating_due = ts(end_of_day(add_wd(local_day(t), rating_days)))
                t = after_platform(t, 1080 + u[8] * 88920)
                if t > now:
                    break
                again = "satisfied" if u[11] < 0.7 else "basically_satisfied"
                ratings.append(f"{ids[3]}\t{tid}\t{second}\t{again}\t{REDO_RATING_COMMENT}\t{agent_id}\t\t{ts(t)}\n")
                ids[3] += 1
                event(tid, "rate", agent, NULL, "replied", "closed", REDO_RATING_COMMENT,
                      f'{{"rating": "{again}", "return_visit": true, "reply": {second}}}', True, t)
                status, closed_at = "closed", ts(t)
                break

            # The ticket as it stands at "now".
            anonymous = a["anonymous"][i]
            name = pools.names[a["name"][i] % len(pools.names)] if a["name"][i] >= 0 else ""
            phone, phone_hash = pools.phones[a["phone"][i] % len(pools.phones)] if a["phone"][i] >= 0 else ("", "")
            email = pools.emails[a["email"][i] % len(pools.emails)] if a["email"][i] >= 0 else ""
            company, credit = pools.companies[a["company"][i] % len(pools.companies)] if enterprise else ("", "")
            located = channel in ("app", "miniprogram") and address
            tickets.append(
                f"{tid}\t{clock.number(a['day'][i], a['seq'][i])}\t{channel}\t{status}\t{'t' if anonymous else 'f'}\t"
                f"{'enterprise' if enterprise else 'citizen'}\t{name}\t{phone}\t{phone_hash}\t\t{company}\t{credit}\t"
                f"{email}\t{'t' if a['contact'][i] else 'f'}\t{GENERATED_MARK}\t{kind}\t{'t' if urgent else 'f'}\t"
                f"{category}\t{district}\t{street}\t{address}\t{lat if located else NULL}\t{lon if located else NULL}\t"
                f"{title}\t{hotline_text if hotline else text}\t{lead}\t{ts(t0)}\t{limit}\t{extended_days}\t{ts(due)}\t"
                f"{'t' if due_prov else 'f'}\t{unit_due}\t{'t' if unit_prov else 'f'}\t{dispatched_at}\t{signed_at}\t"
                f"{sign_due}\t{signed_late}\t{return_due}\tf\t{assist_due}\t{replied_at}\t{rating_due}\t{redo_count}\t"
                f"{closed_at}\t{agent_id if hotline else NULL}\t{NULL}\n"
            )
        counts = [ids[k] - chunk.bases[k] for k in range(len(draw.TABLES))]
        return out, counts

    def _staff(self, unit: int, pick: int, *, leader: bool) -> tuple[str, int]:
        people = (self.leaders if leader else self.handlers).get(unit) or self.leaders.get(unit) or self.handlers[unit]
        return people[(pick >> 24) % len(people)]


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, out = float(sum(weights)), []
    running = 0.0
    for w in weights:
        running += w
        out.append(running / total)
    return out


def _choose(cumulative: list[float], u: float) -> int:
    for k, edge in enumerate(cumulative):
        if u < edge:
            return k
    return len(cumulative) - 1


def sqlite_rows(lines: Sequence[str], booleans: Sequence[int]) -> list[list[Any]]:
    """COPY text lines as SQLite parameters: NULLs, escapes and booleans undone."""
    rows = []
    for line in lines:
        values: list[Any] = line[:-1].split("\t")
        for k, value in enumerate(values):
            if value == NULL:
                values[k] = None
            elif "\\" in value:
                values[k] = (value.replace("\\\\", "\0").replace("\\t", "\t").replace("\\n", "\n")
                             .replace("\\r", "\r").replace("\0", "\\"))
        for k in booleans:
            if values[k] is not None:
                values[k] = values[k] == "t"
        rows.append(values)
    return rows
