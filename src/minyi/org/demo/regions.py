"""The gazetteer of the demo: Shenzhen's nine districts and Dapeng New District.

District codes are the GB/T 2260 administrative codes. Dapeng New District is a functional
area without a code of its own in GB/T 2260; it gets 440399, a code no district uses. Street
codes are derived: the district code and the street's ordinal here (440304007 = 莲花街道);
they are stable identifiers for this demo, not the national statistical codes.

Streets follow the division in force since the 2018–2019 reorganisation (74 streets).
Population is the approximate resident population in 10,000s (2023), used to weight where
demo tickets come from. Roads, estates, hospitals and parks give the ticket texts real places.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class District:
    code: str
    name: str
    short: str
    population: int  # 10,000 residents, approximate
    streets: tuple[str, ...]
    roads: tuple[str, ...]
    estates: tuple[str, ...]
    hospitals: tuple[str, ...]
    parks: tuple[str, ...]
    centre: tuple[float, float]  # latitude, longitude

    def street_code(self, index: int) -> str:
        return f"{self.code}{index + 1:03d}"


DISTRICTS: tuple[District, ...] = (
    District(
        code="440304", name="福田区", short="福田", population=153,
        streets=("园岭街道", "南园街道", "福田街道", "沙头街道", "香蜜湖街道", "梅林街道",
                 "莲花街道", "华富街道", "福保街道", "华强北街道"),
        roads=("深南大道", "福华路", "彩田路", "红荔路", "华强北路", "景田路", "新洲路",
               "皇岗路", "莲花路", "上步路", "益田路", "香蜜湖路"),
        estates=("莲花北村", "景田北小区", "梅林一村", "园岭新村", "华富村", "福民新村",
                 "上沙村", "新洲花园", "彩田村", "天健花园"),
        hospitals=("北京大学深圳医院", "深圳市第二人民医院", "福田区人民医院"),
        parks=("莲花山公园", "中心公园", "荔枝公园"),
        centre=(22.541, 114.055),
    ),
    District(
        code="440303", name="罗湖区", short="罗湖", population=114,
        streets=("桂园街道", "黄贝街道", "东门街道", "翠竹街道", "南湖街道", "笋岗街道",
                 "东湖街道", "莲塘街道", "东晓街道", "清水河街道"),
        roads=("东门中路", "人民南路", "深南东路", "宝安北路", "翠竹路", "爱国路", "布心路",
               "太白路", "沿河北路", "罗沙路"),
        estates=("翠竹苑", "鹿丹村", "黄贝岭村", "湖贝新村", "鹏兴花园", "清水河新村",
                 "金湖花园", "百仕达花园"),
        hospitals=("深圳市人民医院", "罗湖区人民医院", "深圳市中医院"),
        parks=("东湖公园", "洪湖公园", "人民公园"),
        centre=(22.548, 114.131),
    ),
    District(
        code="440308", name="盐田区", short="盐田", population=21,
        streets=("梅沙街道", "盐田街道", "沙头角街道", "海山街道"),
        roads=("深盐路", "沙盐路", "海山路", "盐田路", "海景二路", "东海道"),
        estates=("海涛花园", "海景花园", "梅沙雅苑", "盐田村", "永安小区"),
        hospitals=("盐田区人民医院",),
        parks=("梅沙湾公园", "海滨栈道"),
        centre=(22.557, 114.237),
    ),
    District(
        code="440305", name="南山区", short="南山", population=180,
        streets=("南头街道", "南山街道", "沙河街道", "蛇口街道", "招商街道", "粤海街道",
                 "桃源街道", "西丽街道"),
        roads=("南海大道", "科技南路", "南山大道", "沙河西路", "桃园路", "留仙大道",
               "工业八路", "后海大道", "白石路", "学府路"),
        estates=("南油小区", "南山村", "桂庙新村", "阳光棕榈园", "蔚蓝海岸", "四海小区",
                 "西丽村", "桃源村", "华侨城香山里", "招商花园城"),
        hospitals=("南山区人民医院", "香港大学深圳医院", "深圳大学总医院"),
        parks=("深圳湾公园", "大沙河公园", "中山公园"),
        centre=(22.533, 113.930),
    ),
    District(
        code="440306", name="宝安区", short="宝安", population=452,
        streets=("新安街道", "西乡街道", "航城街道", "福永街道", "福海街道", "沙井街道",
                 "新桥街道", "松岗街道", "燕罗街道", "石岩街道"),
        roads=("宝安大道", "创业路", "新湖路", "建安一路", "福永大道", "沙井路", "松福大道",
               "塘头大道", "航城大道", "宝源路"),
        estates=("碧海花园", "宝城25区", "新安湖花园", "盐田新村", "凤凰新村", "新桥村",
                 "东方村", "塘头村", "三围村"),
        hospitals=("宝安区人民医院", "宝安区中心医院", "宝安区妇幼保健院"),
        parks=("宝安公园", "西湾红树林公园", "铁仔山公园"),
        centre=(22.555, 113.884),
    ),
    District(
        code="440307", name="龙岗区", short="龙岗", population=398,
        streets=("平湖街道", "坂田街道", "布吉街道", "南湾街道", "横岗街道", "龙城街道",
                 "龙岗街道", "坪地街道", "吉华街道", "宝龙街道", "园山街道"),
        roads=("龙岗大道", "布吉路", "坂雪岗大道", "深惠路", "吉华路", "龙翔大道", "横岗大道",
               "五和大道", "平湖大街"),
        estates=("中海怡翠山庄", "万科城", "龙城花园", "水岸新都", "大芬村", "丹竹头新村",
                 "六约新村", "杨美村", "新木村"),
        hospitals=("龙岗中心医院", "龙岗区人民医院", "香港中文大学（深圳）附属第二医院"),
        parks=("龙城公园", "大运公园", "布吉公园"),
        centre=(22.720, 114.247),
    ),
    District(
        code="440309", name="龙华区", short="龙华", population=253,
        streets=("观湖街道", "民治街道", "龙华街道", "大浪街道", "福城街道", "观澜街道"),
        roads=("民治大道", "梅龙大道", "人民路", "观澜大道", "华繁路", "东环一路", "布龙路",
               "龙华大道"),
        estates=("白石龙村", "上塘村", "金地梅陇镇", "潜龙花园", "清湖村", "大水坑村",
                 "书香门第", "锦绣江南"),
        hospitals=("龙华区人民医院", "龙华区中心医院"),
        parks=("龙华公园", "观澜河碧道"),
        centre=(22.657, 114.045),
    ),
    District(
        code="440310", name="坪山区", short="坪山", population=55,
        streets=("坪山街道", "马峦街道", "碧岭街道", "石井街道", "坑梓街道", "龙田街道"),
        roads=("坪山大道", "深汕路", "东纵路", "龙兴南路", "金牛路", "丹梓大道"),
        estates=("六和城", "坪山花园", "秀新村", "沙湖新村", "竹坑村", "田头村"),
        hospitals=("坪山区人民医院", "坪山区中心医院"),
        parks=("坪山中心公园", "燕子岭生态公园"),
        centre=(22.708, 114.350),
    ),
    District(
        code="440311", name="光明区", short="光明", population=115,
        streets=("光明街道", "公明街道", "新湖街道", "凤凰街道", "玉塘街道", "马田街道"),
        roads=("光明大街", "华夏路", "松白路", "光侨路", "公常路", "东长路", "观光路"),
        estates=("上村花园", "光明新村", "凤凰花园", "田寮村", "合水口村", "楼村"),
        hospitals=("中山大学附属第七医院", "光明区人民医院"),
        parks=("虹桥公园", "光明小镇欢乐田园"),
        centre=(22.749, 113.936),
    ),
    District(
        code="440399", name="大鹏新区", short="大鹏", population=16,
        streets=("葵涌街道", "大鹏街道", "南澳街道"),
        roads=("金业大道", "鹏飞路", "南澳海滨路", "葵涌人民西路", "迎宾路"),
        estates=("三溪社区", "王母社区", "水头沙", "较场尾", "溪涌社区"),
        hospitals=("大鹏新区南澳人民医院", "大鹏新区葵涌人民医院"),
        parks=("大鹏所城", "杨梅坑"),
        centre=(22.594, 114.479),
    ),
)
