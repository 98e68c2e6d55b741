"""JSON renderings of tenant objects, shared by the HTTP handlers and `/__sim/truth` (one function per record kind,
so what truth reports is byte-for-byte what the endpoints serve).

Schema notes. Where the official schema (additionalProperties: false) omits a property that the same spec's own
example shows and real Jira sends, the simulator keeps it: serverInfo `defaultLocale`, resolution/search `isDefault`,
auditing/record `authorAccountId`, fieldconfiguration `id`/`isDefault` (the spec's values schema is a
write-only `{name, description}`), filter/search `isWritable` (an `expand` the schema has no property for), board
configuration `location` as `{id, key, name, self, type}` (the schema says `{type, projectKeyOrId}`). Where the v2
OpenAPI schema types a property as a non-nullable string (change items, user details, share permissions ...) and
real Jira would send `null`, the simulator omits the key instead, so responses validate against the official
schemas. Issue `fields` are free-form in the schema and keep Jira's explicit nulls.
"""

from __future__ import annotations

from typing import Any

from .customfields import DATE_KINDS, FLAGGED_FIELD, MULTI_OPTION_KINDS, OPTION_KINDS, CustomField
from .tenant import (
    BUG, CAT_BY_ID, CATEGORIES, EPIC, ISSUE_EXPAND, LINK_TYPES, PERMISSION_IDS, PERMISSIONS, PRIORITIES,
    PROJECT_EXPAND, RESOLUTIONS, STATUS_BY_ID, STATUS_CATEGORIES, STATUSES, STORY, SYSTEM_FIELDS, TASK, Board,
    Component, Dashboard, Filter, IssueData, Project, Sprint, Tenant, User, Version, board_columns,
    board_estimation_field, duration_text, fmt_agile, fmt_date, fmt_ms, fmt_user_date, fmt_utc_z,
)

# Parent Link (Advanced Roadmaps) says why it cannot be edited: on sites without Premium, and where Epic Link rules
PARENT_LINK_LICENSE = {"reason": "PLUGIN_LICENSE_ERROR",
                       "message": "The Parent Link is only available to Jira Premium users."}
PARENT_LINK_EPIC = {"reason": "EPIC_LINK_SHOULD_BE_USED",
                    "message": "To set an epic as the parent, use the epic link instead"}
_TEXT_KINDS = {"textfield", "textarea", "url", "readonlyfield", "epic_name", "epic_color", "issue_color"}

EMBED_COMMENTS = 20      # search/jql embeds at most 20 comments (docs/jira-api.md)
EMBED_WORKLOGS = 20
EMBED_HISTORIES_SEARCH = 20   # search/jql expand=changelog: 20 histories
EMBED_HISTORIES_BULK = 40     # issue/bulkfetch expand=changelog: "a maximum of 40 changelogs" [spec]


class Renderer:
    def __init__(self, t: Tenant):
        self.t = t
        self.B = t.base
        self._users: dict[int, dict] = {}
        self._status: dict[str, dict] = {}
        self._types: dict[tuple, dict] = {}
        self._fields: tuple | None = None      # (catalogue version, field list, names, schemas)

    # ---- users ----------------------------------------------------------------------------------------------
    def user_ref(self, idx: int) -> dict:
        """UserDetails: the form used inside issues, comments, worklogs, histories, leads, owners."""
        d = self._users.get(idx)
        if d is None:
            u = self.t.users[idx]
            d = {"self": f"{self.B}/rest/api/2/user?accountId={u.account_id}", "accountId": u.account_id}
            if u.email:
                d["emailAddress"] = u.email
            d["avatarUrls"] = u.avatars
            d["displayName"] = u.name
            d["active"] = u.active
            if u.tz:
                d["timeZone"] = u.tz
            d["accountType"] = u.account_type
            self._users[idx] = d
        return d

    def user(self, u: User) -> dict:
        """User (users/search, myself): like UserDetails plus locale."""
        d = {"self": f"{self.B}/rest/api/2/user?accountId={u.account_id}", "accountId": u.account_id,
             "accountType": u.account_type}
        if u.email:
            d["emailAddress"] = u.email
        d["avatarUrls"] = u.avatars
        d["displayName"] = u.name
        d["active"] = u.active
        if u.tz:
            d["timeZone"] = u.tz
        if u.locale:
            d["locale"] = u.locale
        return d

    def myself(self, expand: set[str]) -> dict:
        t = self.t
        u = t.users[0]
        d = self.user(u)
        groups = [g for g in t.user_groups(0) if t.admin or not g.name.startswith(("jira-admins", "site-admins",
                                                                                  "administrators"))]
        d["groups"] = {"size": len(groups), "items": [
            {"name": g.name, "groupId": g.group_id, "self": f"{self.B}/rest/api/2/group?groupId={g.group_id}"}
            for g in groups] if "groups" in expand else []}
        roles = [{"key": "jira-software", "name": "Jira Software"},
                 {"key": "jira-core", "name": "Jira Work Management"}]
        d["applicationRoles"] = {"size": len(roles), "items": roles if "applicationRoles" in expand else []}
        d["expand"] = "groups,applicationRoles"
        return d

    # ---- reference objects ------------------------------------------------------------------------------------
    def status_category(self, cid: int) -> dict:
        c = CAT_BY_ID[cid]
        return {"self": f"{self.B}/rest/api/2/statuscategory/{c[0]}", "id": c[0], "key": c[1], "colorName": c[3],
                "name": c[2]}

    def status(self, sid: str) -> dict:
        d = self._status.get(sid)
        if d is None:
            s = STATUS_BY_ID[sid]
            d = {"self": f"{self.B}/rest/api/2/status/{sid}", "description": s[3],
                 "iconUrl": f"{self.B}/images/icons/statuses/generic.png", "name": s[1], "id": sid,
                 "statusCategory": self.status_category(s[2])}
            self._status[sid] = d
        return d

    def priority(self, pid: str) -> dict:
        p = next(x for x in PRIORITIES if x[0] == pid)
        return {"self": f"{self.B}/rest/api/2/priority/{pid}",
                "iconUrl": f"{self.B}/images/icons/priorities/{p[1].lower()}.svg", "name": p[1], "id": pid}

    def priority_full(self, p: tuple, default: bool) -> dict:
        return {"self": f"{self.B}/rest/api/2/priority/{p[0]}", "statusColor": p[2], "description": p[3],
                "iconUrl": f"{self.B}/images/icons/priorities/{p[1].lower()}.svg", "name": p[1], "id": p[0],
                "isDefault": default}

    def resolution(self, rid: str) -> dict:
        r = next(x for x in RESOLUTIONS if x[0] == rid)
        return {"self": f"{self.B}/rest/api/2/resolution/{rid}", "id": rid, "description": r[2], "name": r[1]}

    def issuetype(self, p: Project, code: int) -> dict:
        key = (p.idx if p.simplified else -1, code)
        d = self._types.get(key)
        if d is None:
            it = self.t.issue_types_for(p)[code]
            d = {"self": f"{self.B}/rest/api/2/issuetype/{it[0]}", "id": it[0], "description": it[5],
                 "iconUrl": f"{self.B}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{it[4]}"
                            "?size=medium",
                 "name": it[1], "subtask": it[3], "avatarId": it[4], "hierarchyLevel": it[2]}
            if it[6] is not None:
                d["entityId"] = self.t._uuid("issuetype", it[0])
                d["scope"] = {"type": "PROJECT", "project": {"id": str(it[6])}}
            self._types[key] = d
        return d

    def project_avatars(self, p: Project) -> dict:
        return {s: f"{self.B}/rest/api/2/universal_avatar/view/type/project/avatar/{10400 + p.idx % 20}"
                   f"?size={n}" for s, n in (("48x48", "large"), ("24x24", "small"), ("16x16", "xsmall"),
                                            ("32x32", "medium"))}

    def project_ref(self, p: Project) -> dict:
        d = {"self": f"{self.B}/rest/api/2/project/{p.id}", "id": str(p.id), "key": p.key, "name": p.name,
             "projectTypeKey": p.type_key, "simplified": p.simplified, "avatarUrls": self.project_avatars(p)}
        if p.category is not None:
            d["projectCategory"] = self.category(p.category)
        return d

    def category(self, c: tuple) -> dict:
        return {"self": f"{self.B}/rest/api/2/projectCategory/{c[0]}", "id": c[0], "name": c[1],
                "description": c[2]}

    def project(self, p: Project, expand: set[str]) -> dict:
        t = self.t
        d: dict[str, Any] = {"expand": PROJECT_EXPAND, "self": f"{self.B}/rest/api/2/project/{p.id}",
                             "id": str(p.id), "key": p.key}
        if "description" in expand:
            d["description"] = p.description
        if "lead" in expand:
            d["lead"] = self.user_ref(p.lead)
        if "issueTypes" in expand:
            d["issueTypes"] = [self.issuetype(p, c) for c in range(5)]
        d["name"] = p.name
        d["avatarUrls"] = self.project_avatars(p)
        if p.category is not None:
            d["projectCategory"] = self.category(p.category)
        d["projectTypeKey"] = p.type_key
        d["simplified"] = p.simplified
        d["style"] = "next-gen" if p.simplified else "classic"
        d["isPrivate"] = False
        d["properties"] = {}
        if p.simplified:
            d["uuid"] = p.uuid
        if "url" in expand and p.url:
            d["url"] = p.url
        if "permissions" in expand:
            d["permissions"] = {"canEdit": t.admin}
        if "insight" in expand:
            ins: dict[str, Any] = {"totalIssueCount": p.insight_count}
            if p.insight_last:
                ins["lastIssueUpdateTime"] = fmt_ms(p.insight_last)
            d["insight"] = ins
        if p.status == "archived":
            d["archived"] = True
            d["archivedDate"] = fmt_ms(p.status_at)
            d["archivedBy"] = self.user_ref(p.status_by)
        elif p.status == "deleted":
            d["deleted"] = True
            d["deletedDate"] = fmt_ms(p.status_at)
            d["deletedBy"] = self.user_ref(p.status_by)
            d["retentionTillDate"] = fmt_ms(p.status_at + 60 * 86_400_000)
        return d

    def version_ref(self, v: Version) -> dict:
        d: dict[str, Any] = {"self": f"{self.B}/rest/api/2/version/{v.id}", "id": str(v.id)}
        if v.description:
            d["description"] = v.description
        d["name"] = v.name
        d["archived"] = v.archived
        d["released"] = v.released
        if v.release is not None:
            d["releaseDate"] = fmt_date(v.release)
        return d

    def version(self, v: Version) -> dict:
        d: dict[str, Any] = {"self": f"{self.B}/rest/api/2/version/{v.id}", "id": str(v.id)}
        if v.description:
            d["description"] = v.description
        d["name"] = v.name
        d["archived"] = v.archived
        d["released"] = v.released
        if v.start is not None:
            d["startDate"] = fmt_date(v.start)
        if v.release is not None:
            d["releaseDate"] = fmt_date(v.release)
            if not v.released:
                d["overdue"] = v.overdue
            d["userReleaseDate"] = fmt_user_date(v.release)
        if v.start is not None:
            d["userStartDate"] = fmt_user_date(v.start)
        d["projectId"] = v.project.id
        return d

    def component_ref(self, c: Component) -> dict:
        d = {"self": f"{self.B}/rest/api/2/component/{c.id}", "id": str(c.id), "name": c.name}
        if c.description:
            d["description"] = c.description
        return d

    def component(self, c: Component, issue_count: int | None) -> dict:
        p = c.project
        d: dict[str, Any] = {"self": f"{self.B}/rest/api/2/component/{c.id}", "id": str(c.id), "name": c.name}
        if c.description:
            d["description"] = c.description
        if c.lead is not None:
            d["lead"] = self.user_ref(c.lead)
        # assignee: the user the nominal type names; realAssignee: who new issues really get (a component-lead
        # type without a lead falls back to the project lead, and is then not valid)
        typ, assignee, real_type, real, valid = c.assignee_type, None, "PROJECT_LEAD", p.lead, True
        if typ == "COMPONENT_LEAD":
            if c.lead is not None:
                assignee, real_type, real = c.lead, "COMPONENT_LEAD", c.lead
            else:
                valid = False
        elif typ == "UNASSIGNED":
            real_type, real = "UNASSIGNED", None
        else:
            assignee = p.lead
        d["assigneeType"] = typ
        if assignee is not None:
            d["assignee"] = self.user_ref(assignee)
        d["realAssigneeType"] = real_type
        if real is not None:
            d["realAssignee"] = self.user_ref(real)
        d["isAssigneeTypeValid"] = valid
        d["project"] = p.key
        d["projectId"] = p.id
        if issue_count is not None:       # only the paginated list counts issues (ComponentWithIssueCount)
            d["issueCount"] = issue_count
        return d

    # ---- issues -----------------------------------------------------------------------------------------------
    def comment(self, d_id: int, c: tuple, rendered: bool = False) -> dict:
        cid, author, body, created, upd_author, updated, vis = c
        out: dict[str, Any] = {"self": f"{self.B}/rest/api/2/issue/{d_id}/comment/{cid}", "id": str(cid),
                               "author": self.user_ref(author), "body": body}
        if rendered:
            out["renderedBody"] = f"<p>{body}</p>"
        out["updateAuthor"] = self.user_ref(upd_author)
        out["created"] = fmt_ms(created)
        out["updated"] = fmt_ms(updated)
        if vis is not None:
            out["visibility"] = {"type": vis[0], "value": vis[1], "identifier": vis[1]}
        out["jsdPublic"] = True
        return out

    def worklog(self, issue_id: int, w: tuple) -> dict:
        wid, author, started, created, secs, updated, comment, vis = w
        out: dict[str, Any] = {"self": f"{self.B}/rest/api/2/issue/{issue_id}/worklog/{wid}",
                               "author": self.user_ref(author), "updateAuthor": self.user_ref(author)}
        if comment:
            out["comment"] = comment
        out["created"] = fmt_ms(created)
        out["updated"] = fmt_ms(updated)
        out["started"] = fmt_ms(started)
        out["timeSpent"] = duration_text(secs)
        out["timeSpentSeconds"] = secs
        out["id"] = str(wid)
        out["issueId"] = str(issue_id)
        if vis is not None:
            g = self.t.group_by_name.get(vis[1])
            out["visibility"] = {"type": vis[0], "value": vis[1],
                                 "identifier": g.group_id if g else "276f955c-63d7-42c8-9520-92d01dca0625"}
        return out

    def history(self, h: tuple) -> dict:
        hid, author, created, items = h
        return {"id": str(hid), "author": self.user_ref(author), "created": fmt_ms(created),
                "items": [{k: v for k, v in it.items() if v is not None} for it in items]}

    def _issue_stub(self, n: int) -> dict | None:
        t = self.t
        if not t.exists(n):
            return None
        iid, key, summary, status, priority, project, code = t.stub(n)
        return {"id": str(iid), "key": key, "self": f"{self.B}/rest/api/2/issue/{iid}",
                "fields": {"summary": summary, "status": self.status(status),
                           "priority": self.priority(priority), "issuetype": self.issuetype(project, code)}}

    def sprint_field(self, s: Sprint) -> dict:
        """A sprint inside an issue's Sprint field: Jira Software's own serialization, dates in UTC (Z)."""
        d: dict[str, Any] = {"id": s.id, "name": s.name, "state": s.state, "boardId": s.board}
        if s.goal is not None:
            d["goal"] = s.goal
        if s.start is not None:
            d["startDate"] = fmt_utc_z(s.start)
            d["endDate"] = fmt_utc_z(s.end)
        if s.complete is not None:
            d["completeDate"] = fmt_utc_z(s.complete)
        return d

    def sprint(self, s: Sprint) -> dict:
        d: dict[str, Any] = {"id": s.id, "self": f"{self.B}/rest/agile/1.0/sprint/{s.id}", "state": s.state,
                             "name": s.name}
        if s.start is not None:
            d["startDate"] = fmt_agile(s.start)
            d["endDate"] = fmt_agile(s.end)
        if s.complete is not None:
            d["completeDate"] = fmt_agile(s.complete)
        d["createdDate"] = fmt_agile(s.created)
        d["originBoardId"] = s.board
        if s.goal is not None:          # a sprint that never had a goal has no `goal` key
            d["goal"] = s.goal
        return d

    def _option(self, opt: tuple) -> dict:
        return {"self": f"{self.B}/rest/api/2/customFieldOption/{opt[0]}", "value": opt[1], "id": opt[0]}

    def group_ref(self, g) -> dict:
        return {"name": g.name, "groupId": g.group_id, "self": f"{self.B}/rest/api/2/group?groupId={g.group_id}"}

    def field_value(self, d: IssueData, f: str) -> Any:
        """The value of one field of the issue; raises KeyError for a field the issue does not carry."""
        t = self.t
        p = d.project
        if f == "summary":
            return d.summary
        if f == "issuetype":
            return self.issuetype(p, d.type_code)
        if f == "project":
            return self.project_ref(p)
        if f == "status":
            return self.status(d.status)
        if f == "statuscategorychangedate":
            return fmt_ms(d.status_changed)
        if f == "priority":
            return self.priority(d.priority)
        if f == "resolution":
            return self.resolution(d.resolution) if d.resolution else None
        if f == "resolutiondate":
            return fmt_ms(d.resolved) if d.resolved else None
        if f in ("assignee", "reporter", "creator"):
            v = getattr(d, f)
            return self.user_ref(v) if v is not None else None
        if f == "created":
            return fmt_ms(d.created)
        if f == "updated":
            return fmt_ms(d.updated)
        if f == "duedate":
            return fmt_date(d.duedate) if d.duedate else None
        if f == "labels":
            return list(d.labels)
        if f == "components":
            return [self.component_ref(c) for c in d.comps]
        if f == "fixVersions":
            return [self.version_ref(v) for v in d.fixv]
        if f == "versions":
            return [self.version_ref(v) for v in d.affects]
        if f == "description":
            return d.description
        if f == "environment":
            return d.environment
        if f == "parent":
            if d.parent is None or not t.exists(d.parent):
                raise KeyError(f)
            return self._issue_stub(d.parent)
        if f == "issuelinks":
            out = []
            for lid, ti, other, outward in t.links.get(d.n, ()):
                stub = self._issue_stub(other)
                if stub is None:
                    continue
                lt = LINK_TYPES[ti]
                out.append({"id": str(lid), "self": f"{self.B}/rest/api/2/issueLink/{lid}",
                            "type": {"id": lt[0], "name": lt[1], "inward": lt[2], "outward": lt[3],
                                     "self": f"{self.B}/rest/api/2/issueLinkType/{lt[0]}"},
                            ("outwardIssue" if outward else "inwardIssue"): stub})
            return out
        if f == "subtasks":
            return [s for s in (self._issue_stub(c) for c in t.children.get(d.n, ())
                                if t.i_type[c] != EPIC and t.i_parent[c] == d.n and d.type_code != EPIC) if s]
        if f == "votes":
            return {"self": f"{self.B}/rest/api/2/issue/{d.key}/votes", "votes": d.votes, "hasVoted": False}
        if f == "watches":
            return {"self": f"{self.B}/rest/api/2/issue/{d.key}/watchers", "watchCount": d.watches,
                    "isWatching": False}
        if f == "lastViewed":
            return fmt_ms(d.last_viewed) if d.last_viewed is not None else None
        if f in ("timetracking", "timeoriginalestimate", "timeestimate", "timespent", "aggregatetimeoriginalestimate",
                 "aggregatetimeestimate", "aggregatetimespent", "workratio", "progress", "aggregateprogress"):
            return self._time_field(d, f)
        if f == "security":
            return None
        if f == "attachment":
            return []
        if f == "issuerestriction":
            return {"issuerestrictions": {}, "shouldDisplay": False}
        if f == "comment":
            cs = d.comments
            shown = cs[:EMBED_COMMENTS]
            return {"comments": [self.comment(d.id, c) for c in shown],
                    "self": f"{self.B}/rest/api/2/issue/{d.id}/comment", "maxResults": len(shown),
                    "total": len(cs), "startAt": 0}
        if f == "worklog":
            ws = d.worklogs if p.tt_enabled else []
            return {"startAt": 0, "maxResults": EMBED_WORKLOGS, "total": len(ws),
                    "worklogs": [self.worklog(d.id, w) for w in ws[:EMBED_WORKLOGS]]}
        if f.startswith("customfield_"):
            return self._custom(d, f)
        # Jira Software pseudo-fields (agile/software issue lists)
        if f == "sprint":
            cur = [s for s in d.sprints if s.state != "closed"]
            return self.sprint(cur[-1]) if cur else None
        if f == "closedSprints":
            return [self.sprint(s) for s in d.sprints if s.state == "closed"]
        if f == "flagged":
            return FLAGGED_FIELD in d.custom
        if f == "epic":
            if d.parent is None or t.i_type[d.parent] != EPIC or not t.exists(d.parent):
                return None
            e = t.materialize(d.parent)
            return {"id": e.id, "key": e.key, "self": f"{self.B}/rest/agile/1.0/epic/{e.id}",
                    "name": e.summary[:40], "summary": e.summary, "color": {"key": f"color_{e.n % 14 + 1}"},
                    "done": STATUS_BY_ID[e.status][2] == 3}
        raise KeyError(f)

    def _time_field(self, d: IssueData, f: str) -> Any:
        if not d.project.tt_enabled:
            if f == "timetracking":
                return {}
            if f in ("progress", "aggregateprogress"):
                return {"progress": 0, "total": 0}
            return -1 if f == "workratio" else None
        spent = sum(w[4] for w in d.worklogs)
        orig = d.orig_estimate
        remaining = max(0, orig - spent) if orig is not None else None
        if f == "timetracking":
            out: dict[str, Any] = {}
            if orig is not None:
                out["originalEstimate"] = duration_text(orig)
                out["remainingEstimate"] = duration_text(remaining)
            if spent:
                out["timeSpent"] = duration_text(spent)
            if orig is not None:
                out["originalEstimateSeconds"] = orig
                out["remainingEstimateSeconds"] = remaining
            if spent:
                out["timeSpentSeconds"] = spent
            return out
        if f in ("timeoriginalestimate", "aggregatetimeoriginalestimate"):
            return orig
        if f in ("timeestimate", "aggregatetimeestimate"):
            return remaining
        if f in ("timespent", "aggregatetimespent"):
            return spent or None
        if f == "workratio":
            return int(spent * 100 / orig) if orig else -1
        total = spent + (remaining or 0)
        out = {"progress": spent, "total": total}
        if total:
            out["percent"] = int(spent * 100 / total)
        return out

    def _custom(self, d: IssueData, f: str) -> Any:
        """A custom field of the issue's project context (most of them null); KeyError for any other field."""
        cat = self.t.cf
        if f not in cat.context_set[d.project.idx]:
            raise KeyError(f)
        return self.custom_value(d, cat.by_id[f])

    def custom_value(self, d: IssueData, fd: CustomField) -> Any:
        t = self.t
        k = fd.kind
        if k == "sprint":
            return [self.sprint_field(s) for s in d.sprints] or None
        if k == "rank":
            return f"0|i{d.n:06x}:"           # Rank values ascend with the issue number (the boards' order)
        if k == "parent_link":
            return self._parent_link(d)
        if k == "epic_link":
            return t.issue_key(d.parent) if self._epic_parent(d) else None
        v = d.custom.get(fd.id)
        if k == "devsummary":
            return v if v is not None else "{}"    # the panel's empty summary, never null
        if v is None:
            return None
        if k in ("float", "story_points") or k in _TEXT_KINDS:
            return v
        if k in DATE_KINDS:
            return fmt_date(v)
        if k == "datetime":
            return fmt_ms(v)
        if k in OPTION_KINDS:
            return self._option(fd.options[v])
        if k in MULTI_OPTION_KINDS:
            return [self._option(fd.options[i]) for i in v]
        if k == "labels":
            return list(v)
        if k == "version":
            return self.version_ref(d.project.versions[v])
        if k == "multiversion":
            return [self.version_ref(d.project.versions[i]) for i in v]
        if k == "grouppicker":
            return self.group_ref(t.groups[v])
        if k == "multigrouppicker":
            return [self.group_ref(t.groups[i]) for i in v]
        if k == "userpicker":
            return self.user_ref(v)
        if k == "multiuserpicker":
            return [self.user_ref(i) for i in v]
        if k == "cascadingselect":
            parent = fd.options[v[0]]
            out = self._option(parent)
            if v[1] >= 0:
                out["child"] = self._option(fd.children[parent[0]][v[1]])
            return out
        if k == "project":
            return self.project_ref(t.projects[v])
        if k == "team":
            tid, name = t.cf.teams[v]
            return {"id": tid, "name": name, "avatarUrl": "", "isVisible": True, "isVerified": False,
                    "title": name, "isShared": True}
        raise KeyError(fd.id)

    def _epic_parent(self, d: IssueData) -> bool:
        t = self.t
        return d.parent is not None and t.i_type[d.parent] == EPIC and t.exists(d.parent)

    def _parent_link(self, d: IssueData) -> dict:
        """Advanced Roadmaps' Parent Link: never null; says whether it may be edited, and names the issue's epic."""
        t = self.t
        epic_rule = not d.project.simplified and d.type_code in (STORY, TASK, BUG)
        out: dict[str, Any] = {"hasEpicLinkFieldDependency": epic_rule, "showField": t.premium}
        if not t.premium:
            out["nonEditableReason"] = PARENT_LINK_LICENSE
        elif epic_rule:
            out["nonEditableReason"] = PARENT_LINK_EPIC
        if self._epic_parent(d):
            iid, key, summary, status, _pri, project, code = t.stub(d.parent)
            out["data"] = {"id": iid, "key": key, "keyNum": int(key.rsplit("-", 1)[1]), "summary": summary,
                           "issueTypeId": t.issue_types_for(project)[code][0], "projectId": project.id,
                           "isResolved": STATUS_BY_ID[status][2] == 3}
        return out

    def issue(self, d: IssueData, fields: list[str], expand: set[str], *, histories_cap: int = 20) -> dict:
        out: dict[str, Any] = {"expand": ISSUE_EXPAND, "id": str(d.id), "self": f"{self.B}/rest/api/2/issue/{d.id}",
                               "key": d.key}
        if fields:
            fv: dict[str, Any] = {}
            cat = self.t.cf
            ctx = cat.context_set[d.project.idx]
            for f in fields:
                if f in ctx:
                    fv[f] = self.custom_value(d, cat.by_id[f])
                    continue
                if f.startswith("customfield_"):
                    continue                    # not in this project's context: Jira leaves the key out
                try:
                    fv[f] = self.field_value(d, f)
                except KeyError:
                    pass
            out["fields"] = fv
        if "renderedFields" in expand:
            out["renderedFields"] = {"description": f"<p>{d.description}</p>" if d.description else None}
        if "names" in expand:
            out["names"] = self.names(fields)
        if "schema" in expand:
            out["schema"] = self.schema(fields)
        if "changelog" in expand:
            hs = d.histories[:histories_cap]
            out["changelog"] = {"startAt": 0, "maxResults": len(hs), "total": len(d.histories),
                                "histories": [self.history(h) for h in hs]}
        return out

    # ---- field catalogue ----------------------------------------------------------------------------------------
    def field_list(self) -> list[dict]:
        return self._field_catalogue()[0]

    def _field_catalogue(self) -> tuple[list[dict], dict, dict]:
        """(GET /field's list, id -> name, id -> schema), rebuilt when a custom field is renamed."""
        cat = self.t.cf
        if self._fields is None or self._fields[0] != cat.version:
            out = []
            for fid, name, schema, nav, order, search, clauses in SYSTEM_FIELDS:
                d: dict[str, Any] = {"id": fid, "key": fid, "name": name, "custom": False, "orderable": order,
                                     "navigable": nav, "searchable": search, "clauseNames": clauses}
                if schema is not None:
                    d["schema"] = schema
                out.append(d)
            for fd in cat.fields:
                d = {"id": fd.id, "key": fd.id, "name": fd.name, "custom": True, "orderable": True,
                     "navigable": True, "searchable": True, "clauseNames": [f"cf[{fd.num}]", fd.name],
                     "schema": fd.schema()}
                if fd.scope is not None:      # a team-managed project's own field
                    d["scope"] = {"type": "PROJECT", "project": {"id": str(self.t.projects[fd.scope].id)}}
                out.append(d)
            self._fields = (cat.version, out, {f["id"]: f["name"] for f in out},
                            {f["id"]: f["schema"] for f in out if "schema" in f})
        return self._fields[1], self._fields[2], self._fields[3]

    def names(self, fields: list[str]) -> dict:
        names = self._field_catalogue()[1]
        return {f: names[f] for f in fields if f in names}

    def schema(self, fields: list[str]) -> dict:
        schemas = self._field_catalogue()[2]
        return {f: schemas[f] for f in fields if f in schemas}

    # ---- agile ---------------------------------------------------------------------------------------------------
    def board(self, b: Board) -> dict:
        if b.private:
            # includePrivate=true lists boards the caller cannot see without name/type
            return {"id": b.id, "self": f"{self.B}/rest/agile/1.0/board/{b.id}", "isPrivate": True}
        d: dict[str, Any] = {"id": b.id, "self": f"{self.B}/rest/agile/1.0/board/{b.id}", "name": b.name,
                             "type": b.type}
        if b.project is not None:
            p = b.project
            d["location"] = {"projectId": p.id, "displayName": f"{p.name} ({p.key})", "projectName": p.name,
                             "projectKey": p.key, "projectTypeKey": p.type_key,
                             "avatarURI": f"{self.B}/rest/api/2/universal_avatar/view/type/project/avatar/"
                                          f"{10400 + p.idx % 20}?size=small",
                             "name": f"{p.name} ({p.key})"}
        else:
            u = self.t.users[b.location_user]
            d["location"] = {"userId": 10000 + u.idx, "userAccountId": u.account_id, "displayName": u.name,
                             "name": u.name,
                             "avatarURI": u.avatars["24x24"]}
        d["isPrivate"] = False
        return d

    def board_configuration(self, b: Board) -> dict:
        d: dict[str, Any] = {"id": b.id, "name": b.name, "type": b.type,
                             "self": f"{self.B}/rest/agile/1.0/board/{b.id}/configuration"}
        # the container the board is located in, as real sites send it (the schema's {type, projectKeyOrId} is not)
        if b.project is not None:
            p = b.project
            d["location"] = {"id": str(p.id), "key": p.key, "name": p.name,
                             "self": f"{self.B}/rest/api/2/project/{p.id}", "type": "project"}
        else:
            u = self.t.users[b.location_user]
            d["location"] = {"id": u.account_id, "name": u.name,
                             "self": f"{self.B}/rest/api/2/user?accountId={u.account_id}", "type": "user"}
        d["filter"] = {"id": str(b.filter_id), "self": f"{self.B}/rest/api/2/filter/{b.filter_id}"}
        if b.type == "kanban":
            d["subQuery"] = {"query": "fixVersion in unreleasedVersions() OR fixVersion is EMPTY"}
        columns = []
        for name, sts, mn, mx in board_columns(b):
            c: dict[str, Any] = {"name": name, "statuses": [{"id": s, "self": f"{self.B}/rest/api/2/status/{s}"}
                                                            for s in sts]}
            if mn is not None:
                c["min"] = mn
            if mx is not None:
                c["max"] = mx
            columns.append(c)
        d["columnConfig"] = {"columns": columns, "constraintType": "issueCount" if b.type == "kanban" else "none"}
        estimate = board_estimation_field(b)
        if estimate is not None:           # team-managed boards have no estimation block
            d["estimation"] = {"type": "field", "field": {"fieldId": estimate,
                                                          "displayName": self.t.cf.by_id[estimate].name}}
        d["ranking"] = {"rankCustomFieldId": 10019}
        return d

    # ---- config objects -----------------------------------------------------------------------------------------
    def share(self, s: tuple, sid: int) -> dict:
        kind, ref = s
        if kind == "global":
            return {"id": sid, "type": "global"}
        if kind == "project":
            p = self.t.projects[ref]
            return {"id": sid, "type": "project", "project": {
                "self": f"{self.B}/rest/api/2/project/{p.id}", "id": str(p.id), "key": p.key, "name": p.name,
                "avatarUrls": self.project_avatars(p), "projectTypeKey": p.type_key, "simplified": p.simplified}}
        g = self.t.groups[ref]
        return {"id": sid, "type": "group", "group": {"name": g.name, "groupId": g.group_id,
                                                     "self": f"{self.B}/rest/api/2/group?groupId={g.group_id}"}}

    def filter_details(self, f: Filter, expand: set[str]) -> dict:
        d: dict[str, Any] = {"expand": "description,owner,jql,viewUrl,searchUrl,favourite,favouritedCount,"
                                       "sharePermissions,editPermissions,isWritable,approximateLastUsed,"
                                       "subscriptions",
                             "self": f"{self.B}/rest/api/2/filter/{f.id}", "id": str(f.id), "name": f.name}
        if "description" in expand and f.description:
            d["description"] = f.description
        if "owner" in expand:
            d["owner"] = self.user_ref(f.owner)
        if "jql" in expand:
            d["jql"] = f.jql
        if "viewUrl" in expand:
            d["viewUrl"] = f"{self.B}/issues/?filter={f.id}"
        if "searchUrl" in expand:
            d["searchUrl"] = f"{self.B}/rest/api/2/search/jql?jql={_quote(f.jql)}"
        if "favourite" in expand:
            d["favourite"] = f.favourite
        if "favouritedCount" in expand:
            d["favouritedCount"] = f.fav_count
        if "sharePermissions" in expand:
            d["sharePermissions"] = [self.share(s, 10000 + f.id * 10 + k) for k, s in enumerate(f.share)]
        if "editPermissions" in expand:
            d["editPermissions"] = [self.share(s, 20000 + f.id * 10 + k) for k, s in enumerate(f.edit)]
        if "isWritable" in expand:
            d["isWritable"] = self._filter_writable(f)
        if "approximateLastUsed" in expand and f.last_used is not None:   # never run: the key is left out
            d["approximateLastUsed"] = fmt_ms(f.last_used)
        if "subscriptions" in expand:
            d["subscriptions"] = [{"id": 10000 + f.id * 10 + k, "user": self.user_ref(ref)}
                                  for k, (kind, ref) in enumerate(f.subscriptions)]
        return d

    def _filter_writable(self, f: Filter) -> bool:
        """Whether the caller may edit the filter: its own, or shared for editing with a group the caller is in."""
        return f.owner == 0 or any(kind == "group" and 0 in self.t.groups[ref].members for kind, ref in f.edit)

    def filter_bean(self, f: Filter) -> dict:
        """The `Filter` shape of /filter/favourite and /filter/my."""
        shares = [self.share(s, 10000 + f.id * 10 + k) for k, s in enumerate(f.share)]
        d: dict[str, Any] = {"self": f"{self.B}/rest/api/2/filter/{f.id}", "id": str(f.id), "name": f.name}
        if f.description:
            d["description"] = f.description
        d.update({"owner": self.user_ref(f.owner), "jql": f.jql, "viewUrl": f"{self.B}/issues/?filter={f.id}",
                  "searchUrl": f"{self.B}/rest/api/2/search/jql?jql={_quote(f.jql)}", "favourite": f.favourite,
                  "favouritedCount": f.fav_count, "sharePermissions": shares,
                  "editPermissions": [self.share(s, 20000 + f.id * 10 + k) for k, s in enumerate(f.edit)],
                  "sharedUsers": {"size": 0, "items": [], "max-results": 1000, "start-index": 0, "end-index": 0},
                  "subscriptions": {"size": len(f.subscriptions), "items": [], "max-results": 1000,
                                    "start-index": 0, "end-index": 0}})
        return d

    def dashboard(self, dsh: Dashboard) -> dict:
        d: dict[str, Any] = {"id": str(dsh.id), "isFavourite": dsh.favourite, "name": dsh.name}
        if dsh.description:
            d["description"] = dsh.description
        if dsh.owner is not None:
            u = self.t.users[dsh.owner]
            d["owner"] = {"accountId": u.account_id, "displayName": u.name, "active": u.active,
                          "avatarUrls": u.avatars, "self": f"{self.B}/rest/api/2/user?accountId={u.account_id}"}
        d["popularity"] = dsh.popularity
        d["rank"] = dsh.id - 10000          # the dashboard's position in the caller's list
        d["self"] = f"{self.B}/rest/api/2/dashboard/{dsh.id}"
        d["sharePermissions"] = [self.share(s, 30000 + dsh.id * 10 + k) for k, s in enumerate(dsh.share)]
        d["editPermissions"] = []
        d["isWritable"] = dsh.owner == 0 or self.t.admin
        d["systemDashboard"] = dsh.system
        d["view"] = f"{self.B}/jira/dashboards/{dsh.id}"
        if dsh.refresh:
            d["automaticRefreshMs"] = dsh.refresh
        return d

    def group(self, g) -> dict:
        return {"name": g.name, "groupId": g.group_id}

    def issue_type_list(self) -> list[dict]:
        out = [self.issuetype(self.t.projects[0], c) for c in range(5)] if not self.t.projects[0].simplified else []
        if not out:
            p0 = next(p for p in self.t.projects if not p.simplified)
            out = [self.issuetype(p0, c) for c in range(5)]
        for p in self.t.projects:
            if p.simplified and p.status == "live":
                out.extend(self.issuetype(p, c) for c in range(5))
        return out

    def status_list(self) -> list[dict]:
        return [dict(self.status(s[0]), untranslatedName=s[1]) for s in STATUSES]

    def status_categories(self) -> list[dict]:
        return [self.status_category(c[0]) for c in STATUS_CATEGORIES]

    def link_types(self) -> list[dict]:
        return [{"id": lt[0], "name": lt[1], "inward": lt[2], "outward": lt[3],
                 "self": f"{self.B}/rest/api/2/issueLinkType/{lt[0]}"} for lt in LINK_TYPES]

    def project_types(self) -> list[dict]:
        return [{"key": k, "formattedKey": f, "descriptionI18nKey": dk, "color": c,
                 "icon": "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4="} for k, f, c, dk in
                [(x[0], x[1], x[2], x[3]) for x in _PT]]

    def categories(self) -> list[dict]:
        return [self.category(c) for c in CATEGORIES]

    def resolution_full(self, r: tuple) -> dict:
        return {"self": f"{self.B}/rest/api/2/resolution/{r[0]}", "id": r[0], "description": r[2], "name": r[1],
                "isDefault": r[0] == "10000"}

    def permission(self, key: str, have: bool) -> dict:
        p = next(x for x in PERMISSIONS if x[0] == key)
        return {"id": PERMISSION_IDS[key], "key": key, "name": p[1], "type": p[2],
                "description": f"Ability to {p[1].lower()}.", "havePermission": have}

    def field_configuration(self, fc: tuple) -> dict:
        d = {"id": fc[0], "name": fc[1], "isDefault": fc[3]}
        if fc[2]:
            d["description"] = fc[2]
        return d

    def security_scheme(self, s: tuple) -> dict:
        sid, name, i = s
        levels = [{"self": f"{self.B}/rest/api/2/securitylevel/{sid * 10 + k}", "id": str(sid * 10 + k),
                   "name": lv, "description": f"Visible to {lv.lower()}"} for k, lv in
                  enumerate(["Internal", "Confidential", "Staff only"][: 2 + i % 2])]
        return {"self": f"{self.B}/rest/api/2/issuesecurityschemes/{sid}", "id": sid, "name": name,
                "description": f"{name} levels", "defaultSecurityLevelId": sid * 10, "levels": levels}

    def notification_scheme(self, s: tuple, expand: set[str]) -> dict:
        sid, name = s
        d: dict[str, Any] = {"expand": "notificationSchemeEvents,user,group,projectRole,field,all", "id": sid,
                             "self": f"{self.B}/rest/api/2/notificationscheme/{sid}", "name": name,
                             "description": "" if sid % 2 else f"{name} for company-managed projects"}
        if expand & {"all", "notificationSchemeEvents"}:
            events = [(1, "Issue Created"), (2, "Issue Updated"), (3, "Issue Assigned"), (6, "Issue Commented"),
                      (13, "Issue Deleted"), (10001, "Sprint started")]
            evs = []
            for k, (eid, ename) in enumerate(events):
                notes: list[dict] = []
                if eid != 10001:      # "allow for events without recipients"
                    notes.append({"id": sid * 100 + k * 3, "notificationType": "CurrentAssignee"})
                    notes.append({"id": sid * 100 + k * 3 + 1, "notificationType": "Reporter"})
                if eid == 1:
                    g = self.t.groups[2 % len(self.t.groups)]
                    notes.append({"id": sid * 100 + k * 3 + 2, "notificationType": "Group",
                                  "parameter": g.group_id, "recipient": g.group_id,
                                  "group": {"name": g.name, "groupId": g.group_id,
                                            "self": f"{self.B}/rest/api/2/group?groupId={g.group_id}"}})
                evs.append({"event": {"id": eid, "name": ename, "description": f"Event: {ename}"},
                            "notifications": notes})
            d["notificationSchemeEvents"] = evs
        return d

    def permission_scheme(self, s: tuple, expand: set[str]) -> dict:
        sid, name = s
        d: dict[str, Any] = {"expand": "permissions,user,group,projectRole,field,all", "id": sid,
                             "self": f"{self.B}/rest/api/2/permissionscheme/{sid}", "name": name,
                             "description": "" if sid % 2 else "Default permissions for company-managed projects"}
        if expand & {"all", "permissions"}:
            grants = []
            g = self.t.groups[2 % len(self.t.groups)]
            for k, (key, _n, typ, admin_only) in enumerate(PERMISSIONS):
                if typ != "PROJECT":
                    continue
                if admin_only:
                    holder = {"type": "projectRole", "parameter": "10002", "value": "10002",
                              "expand": "projectRole"}
                elif k % 3 == 0:
                    holder = {"type": "group", "parameter": g.name, "value": g.group_id, "expand": "group"}
                else:
                    holder = {"type": "applicationRole", "expand": "applicationRole"}
                gid = sid * 100 + k
                grants.append({"id": gid, "self": f"{self.B}/rest/api/2/permissionscheme/{sid}/permission/{gid}",
                               "holder": holder, "permission": key})
            d["permissions"] = grants
        return d

    def screen_scheme(self, s: tuple) -> dict:
        sid, name = s
        screens: dict[str, Any] = {"default": sid * 10 + 1}
        if sid % 2 == 0:
            screens["create"] = sid * 10 + 2
            screens["edit"] = sid * 10 + 3
            screens["view"] = sid * 10 + 3
        return {"id": sid, "name": name, "description": "" if sid % 3 else f"{name} for issue operations",
                "screens": screens}

    def workflow_scheme(self, s: tuple) -> dict:
        sid, name = s
        d: dict[str, Any] = {"id": sid, "name": name,
                             "description": "" if sid % 2 else f"{name}: how issue types move through statuses",
                             "defaultWorkflow": "jira", "issueTypeMappings": {} if sid % 2 == 0 else
                             {"10003": self.t.workflows[sid % len(self.t.workflows)][1]},
                             "self": f"{self.B}/rest/api/2/workflowscheme/{sid}"}
        return d

    def workflow(self, w: tuple, transitions: bool) -> dict:
        wid, name, scope_project, statuses, vnum, created = w
        scope = ({"type": "PROJECT", "project": {"id": str(scope_project.id)}} if scope_project
                 else {"type": "GLOBAL"})
        d: dict[str, Any] = {"id": wid, "name": name, "description": "" if name != "jira" else
                             "The default Jira workflow.", "scope": scope,
                             "isEditable": name != "jira",
                             "startPointLayout": {"x": -100.0, "y": -20.0},
                             "statuses": [{"statusReference": s, "deprecated": False,
                                           "layout": {"x": 120.0 * k, "y": 0.0}, "properties": {}}
                                          for k, s in enumerate(statuses)],
                             "version": {"id": self.t._uuid("workflow-version", wid), "versionNumber": vnum},
                             "created": fmt_ms(created), "updated": fmt_ms(created + vnum * 86_400_000)}
        if transitions:
            tr = [{"id": "1", "name": "Create", "description": "", "type": "INITIAL",
                   "toStatusReference": statuses[0], "links": [], "actions": [], "validators": [],
                   "triggers": [], "properties": {}}]
            for k, s in enumerate(statuses[1:], start=1):
                tr.append({"id": str(10 * k + 1), "name": STATUS_BY_ID[s][1], "description": "",
                           "type": "GLOBAL" if k == len(statuses) - 1 else "DIRECTED",
                           "toStatusReference": s,
                           "links": [] if k == len(statuses) - 1 else
                           [{"fromStatusReference": statuses[k - 1], "fromPort": 1, "toPort": 5}],
                           "actions": [], "validators": [], "triggers": [], "properties": {}})
            d["transitions"] = tr
        return d

    def workflow_statuses(self, ws: list[tuple]) -> list[dict]:
        cat = {2: "TODO", 4: "IN_PROGRESS", 3: "DONE", 1: "TODO"}
        seen: list[str] = []
        for w in ws:
            for s in w[3]:
                if s not in seen:
                    seen.append(s)
        return [{"id": s, "name": STATUS_BY_ID[s][1], "statusCategory": cat[STATUS_BY_ID[s][2]],
                 "statusReference": s, "scope": {"type": "GLOBAL"}, "description": STATUS_BY_ID[s][3]}
                for s in seen]

    def audit_record(self, a: tuple) -> dict:
        aid, (summary, category), created, author, ip, obj = a
        u = self.t.users[obj]
        d: dict[str, Any] = {"id": aid, "summary": summary, "remoteAddress": ip,
                             "authorKey": "", "authorAccountId": self.t.users[author].account_id,
                             "created": fmt_ms(created), "category": category, "eventSource": "",
                             "objectItem": {"id": u.account_id, "name": u.account_id, "typeName": "USER",
                                            "parentId": "10000", "parentName": "com.atlassian.crowd.directory"
                                                                                ".IdentityPlatformRemoteDirectory"},
                             "changedValues": [], "associatedItems": []}
        if category == "group management":
            g = self.t.groups[aid % len(self.t.groups)]
            d["associatedItems"] = [{"id": g.name, "name": g.name, "typeName": "GROUP", "parentId": "10000",
                                     "parentName": "com.atlassian.crowd.directory.IdentityPlatformRemoteDirectory"}]
        elif summary == "User's email updated":
            d["changedValues"] = [{"fieldName": "email", "changedFrom": "old@example.com",
                                   "changedTo": u.email or "hidden@example.com"}]
        return d

    def priority_scheme(self, s: tuple, expand: set[str]) -> dict:
        sid, name, default = s
        t = self.t
        d: dict[str, Any] = {"id": str(sid), "name": name, "description": "" if default else f"{name} scheme",
                             "defaultPriorityId": "3", "isDefault": default, "default": default,
                             "self": f"{self.B}/rest/api/2/priorityscheme/{sid}"}
        pris = PRIORITIES if default else PRIORITIES[:5]
        if "priorities" in expand:
            vals = [dict(self.priority_full(p, p[0] == "3"), sequence=str(k)) for k, p in enumerate(pris)]
            d["priorities"] = {"isLast": True, "maxResults": 50, "startAt": 0, "total": len(vals),
                               "values": vals}
        if "projects" in expand:
            live = t.live_projects
            mine = [p for k, p in enumerate(live) if (k % len(t.priority_schemes)) == (sid - 1)]
            vals = [self.project_ref(p) for p in mine[:50]]
            d["projects"] = {"isLast": len(mine) <= 50, "maxResults": 50, "startAt": 0, "total": len(mine),
                             "values": vals}
        return d


_PT = [("software", "Software", "#FFFFFF", "jira.project.type.software.description"),
       ("service_desk", "Service Desk", "#FFFFFF", "jira.project.type.servicedesk.description"),
       ("business", "Business", "#FFFFFF", "jira.project.type.business.description"),
       ("product_discovery", "Product Discovery", "#FFFFFF", "jira.project.type.polaris.description")]


def _quote(s: str) -> str:
    from urllib.parse import quote
    return quote(s, safe="")
