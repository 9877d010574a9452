"""Which industry an identifier belongs to, for colouring the trace graph.

Every template carries its GB/T 4754-2017 classification (``industrySpecific`` division, ``industryTrade`` group,
``industrySubclass`` class). The browser (static/industry.js) looks the most specific of those codes up in the
table below, so the seed templates and any enterprise template classified the same way get a colour without
further configuration. An identifier without a template takes, for a logged-in enterprise, the enterprise's own
declared industry when it lies under one of its prefixes; anything else is drawn as unclassified.
"""

from __future__ import annotations

# GB/T 4754-2017 code -> industry of this node (the enterprise industries steel, automotive, packaging).
INDUSTRY_CODES: dict[str, str] = {
    "31": "steel",  # 黑色金属冶炼和压延加工业 (steel-coil-1.0: 3130)
    "36": "automotive",  # 汽车制造业 (auto-part-1.0: 3670, vehicle-1.0: 3612)
    "223": "packaging",  # 纸制品制造, incl. 2231 纸和纸板容器 (pack-unit-1.0)
    "2039": "packaging",  # 其他木制品: wooden pallets (pallet-1.0)
    "2926": "packaging",  # 塑料包装箱及容器制造: plastic crates
}
