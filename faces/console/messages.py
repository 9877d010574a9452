"""The console's words in Chinese and English, and the choice of language for a visitor."""

from __future__ import annotations

LANGUAGES = ("zh-CN", "en")
COOKIE = "secnode_console_lang"

_ZH = {
    "title": "标识解析二级节点控制台", "node": "节点", "identifier": "标识", "resolve": "解析",
    "lookupHint": "输入标识，例如 {example}",
    "tab.record": "标识记录", "tab.lifecycle": "全生命周期", "tab.trace": "追溯图谱",
    "record.template": "模板", "record.version": "版本", "record.updated": "更新时间", "record.industry": "行业",
    "record.noTemplate": "未绑定模板",
    "col.index": "索引", "col.label": "名称", "col.type": "类型", "col.value": "值", "col.timestamp": "时间戳",
    "qr.caption": "标识二维码", "qr.download": "下载 SVG",
    "loading": "加载中…", "error.notFound": "该标识未在本节点注册。",
    "error.deleted": "该标识已删除（名称不再复用）。", "error.invalid": "标识格式不正确：{message}",
    "error.generic": "请求失败（{status}）：{message}", "error.network": "无法连接节点。",
    "needLogin": "全生命周期与追溯图谱仅向标识所有者及其授权的合作伙伴开放，请先登录。",
    "forbidden": "您无权查看该标识的事件（需要所有者授权）。",
    "lifecycle.empty": "没有记录的事件。", "lifecycle.more": "更多事件",
    "event.ObjectEvent": "对象事件", "event.AggregationEvent": "聚合事件",
    "event.TransformationEvent": "转换事件", "event.AssociationEvent": "关联事件",
    "event.action": "动作", "event.disposition": "状态", "event.location": "地点", "event.readPoint": "读取点",
    "event.inputs": "投入", "event.outputs": "产出", "event.parent": "容器", "event.children": "内容物",
    "event.objects": "对象",
    "step.commissioning": "生产赋码", "step.shipping": "发运", "step.receiving": "收货", "step.packing": "装箱",
    "step.unpacking": "拆箱", "step.loading": "装载", "step.unloading": "卸载", "step.assembling": "装配",
    "step.inspecting": "检验", "step.disassembling": "拆解", "step.decommissioning": "停用",
    "step.destroying": "销毁", "step.storing": "入库", "step.transporting": "运输",
    "step.urn:secnode:bizstep:recycling": "回收",
    "disp.in_transit": "运输中", "disp.active": "在用", "disp.returned": "已退回", "disp.disposed": "已处置",
    "disp.in_progress": "进行中", "disp.conformant": "合格", "disp.non_conformant": "不合格",
    "disp.damaged": "损坏", "disp.recalled": "已召回", "disp.destroyed": "已销毁",
    "disp.container_closed": "已封箱",
    "trace.upstream": "上游", "trace.downstream": "下游", "trace.self": "本标识", "trace.level": "{direction}第 {n} 级",
    "trace.hint": "点击节点可沿链路移动。", "trace.truncated": "图谱超过深度限制，已截断。",
    "trace.more": "另有 {n} 个", "trace.empty": "没有上下游关系。", "legend": "图例",
    "industry.steel": "钢铁", "industry.automotive": "汽车", "industry.packaging": "绿色包装",
    "industry.other": "未分类",
    "status.found": "可查看", "status.unauthorised": "未授权", "status.deleted": "已删除", "status.unknown": "未知",
    "status.foreign": "其他节点", "status.unreachable": "不可达",
    "login": "企业登录", "logout": "退出", "username": "用户名", "password": "密码", "submit": "登录",
    "cancel": "取消", "login.failed": "登录失败：{message}", "signedInAs": "已登录：{user}",
    "nodeAdmin": "节点管理员", "session.expired": "登录已过期，请重新登录。",
    "ent.title": "企业工作台", "ent.identifiers": "标识", "ent.prefixes": "前缀", "ent.templates": "模板",
    "ent.stats": "注册统计", "ent.prefix": "前缀", "ent.state": "状态", "ent.created": "创建时间",
    "ent.search": "搜索标识", "ent.searchButton": "搜索", "ent.clear": "清除",
    "ent.page": "第 {page} / {pages} 页，共 {total} 个", "ent.prev": "上一页", "ent.next": "下一页",
    "ent.searchNote": "在前 {scanned} 个标识中找到 {found} 个", "ent.noPrefix": "尚无启用的前缀。",
    "ent.noIdentifiers": "没有标识。",
    "tpl.version": "版本", "tpl.description": "说明", "tpl.prefix": "所属前缀", "tpl.items": "数据项",
    "stats.total": "标识总数", "stats.prefixes": "前缀数", "stats.templates": "自有模板",
    "stats.byPrefix": "各前缀注册量",
    "state.0": "已停用", "state.1": "已启用", "state.2": "待删除", "state.3": "已驳回", "state.4": "待审核",
    "state.5": "上级审核中",
}

_EN = {
    "title": "Identifier resolution console", "node": "Node", "identifier": "Identifier", "resolve": "Resolve",
    "lookupHint": "Enter an identifier, e.g. {example}",
    "tab.record": "Record", "tab.lifecycle": "Lifecycle", "tab.trace": "Trace",
    "record.template": "Template", "record.version": "Version", "record.updated": "Updated",
    "record.industry": "Industry", "record.noTemplate": "no template",
    "col.index": "Index", "col.label": "Label", "col.type": "Type", "col.value": "Value",
    "col.timestamp": "Timestamp",
    "qr.caption": "QR code of the identifier", "qr.download": "Download SVG",
    "loading": "Loading…", "error.notFound": "This identifier is not registered on this node.",
    "error.deleted": "This identifier was deleted (its name is not reused).",
    "error.invalid": "Not a valid identifier: {message}", "error.generic": "The request failed ({status}): {message}",
    "error.network": "The node cannot be reached.",
    "needLogin": "The lifecycle and the trace are shown to the identifier's owner and the partners it granted: "
                 "log in first.",
    "forbidden": "You may not read this identifier's events (its owner has not granted you).",
    "lifecycle.empty": "No events recorded.", "lifecycle.more": "More events",
    "event.ObjectEvent": "Object event", "event.AggregationEvent": "Aggregation event",
    "event.TransformationEvent": "Transformation event", "event.AssociationEvent": "Association event",
    "event.action": "Action", "event.disposition": "Disposition", "event.location": "Location",
    "event.readPoint": "Read point", "event.inputs": "Inputs", "event.outputs": "Outputs",
    "event.parent": "Container", "event.children": "Contents", "event.objects": "Objects",
    "step.commissioning": "Commissioning", "step.shipping": "Shipping", "step.receiving": "Receiving",
    "step.packing": "Packing", "step.unpacking": "Unpacking", "step.loading": "Loading",
    "step.unloading": "Unloading", "step.assembling": "Assembling", "step.inspecting": "Inspecting",
    "step.disassembling": "Disassembling", "step.decommissioning": "Decommissioning",
    "step.destroying": "Destroying", "step.storing": "Storing", "step.transporting": "Transporting",
    "step.urn:secnode:bizstep:recycling": "Recycling",
    "disp.in_transit": "in transit", "disp.active": "active", "disp.returned": "returned",
    "disp.disposed": "disposed", "disp.in_progress": "in progress", "disp.conformant": "conformant",
    "disp.non_conformant": "non-conformant", "disp.damaged": "damaged", "disp.recalled": "recalled",
    "disp.destroyed": "destroyed", "disp.container_closed": "container closed",
    "trace.upstream": "Upstream", "trace.downstream": "Downstream", "trace.self": "This identifier",
    "trace.level": "{direction} {n}", "trace.hint": "Click a node to move along the chain.",
    "trace.truncated": "The graph was cut at the depth limit.", "trace.more": "{n} more",
    "trace.empty": "No upstream or downstream links.", "legend": "Legend",
    "industry.steel": "Steel", "industry.automotive": "Automotive", "industry.packaging": "Green packaging",
    "industry.other": "Unclassified",
    "status.found": "readable", "status.unauthorised": "not granted", "status.deleted": "deleted",
    "status.unknown": "unknown", "status.foreign": "other node", "status.unreachable": "unreachable",
    "login": "Enterprise login", "logout": "Log out", "username": "Username", "password": "Password",
    "submit": "Log in", "cancel": "Cancel", "login.failed": "Login failed: {message}",
    "signedInAs": "Signed in: {user}", "nodeAdmin": "node administrator",
    "session.expired": "Your login expired: log in again.",
    "ent.title": "Enterprise workspace", "ent.identifiers": "Identifiers", "ent.prefixes": "Prefixes",
    "ent.templates": "Templates", "ent.stats": "Registration statistics", "ent.prefix": "Prefix",
    "ent.state": "State", "ent.created": "Created", "ent.search": "Search identifiers",
    "ent.searchButton": "Search", "ent.clear": "Clear", "ent.page": "Page {page} of {pages}, {total} in all",
    "ent.prev": "Previous", "ent.next": "Next",
    "ent.searchNote": "{found} found among the first {scanned} identifiers",
    "ent.noPrefix": "No enabled prefix yet.", "ent.noIdentifiers": "No identifiers.",
    "tpl.version": "Version", "tpl.description": "Description", "tpl.prefix": "Prefix", "tpl.items": "Items",
    "stats.total": "Identifiers in all", "stats.prefixes": "Prefixes", "stats.templates": "Own templates",
    "stats.byPrefix": "Registrations by prefix",
    "state.0": "disabled", "state.1": "enabled", "state.2": "pending delete", "state.3": "rejected",
    "state.4": "awaiting audit", "state.5": "in upstream audit",
}

MESSAGES = {"zh-CN": _ZH, "en": _EN}


def _preferred(accept_language: str) -> list[str]:
    """The languages of an ``Accept-Language`` header, most wanted first (``q=0`` means not wanted)."""
    ranked = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(asked: str | None, remembered: str | None, accept_language: str) -> str:
    """The language to show: the one just chosen, else the one remembered, else Chinese when the browser ranks
    Chinese before English, else English."""
    for choice in (asked, remembered):
        if choice in LANGUAGES:
            return choice
    for tag in _preferred(accept_language):
        if tag == "zh" or tag.startswith("zh-"):
            return "zh-CN"
        if tag == "en" or tag.startswith("en-"):
            return "en"
    return "en"
