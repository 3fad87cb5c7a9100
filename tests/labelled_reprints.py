"""A labelled set of synthetic news for measuring near-duplicate detection.

Stories are written from a vocabulary of institutional-news phrases (English and
Chinese), so unrelated articles share the stock phrases real ones share. Some
stories are reprinted with the edits reprinting sites make; some come in
families of template articles: different meetings of the same committee,
written from one template with other names, dates and numbers. Every article
carries the label of the story it tells; everything follows from the seed.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, replace
from datetime import date, timedelta


class Writer:
    """Writes in one language by filling the {slots} of patterns. A slot is a list of
    words, or a list of patterns of its own; it is drawn anew wherever it appears."""

    language: str
    joiner: str  # between the sentences of a paragraph
    date_pattern: str  # a day, from {month}, {month_name} and {day}
    words: dict[str, tuple[str, ...]]
    patterns: dict[str, tuple[str, ...]]  # "sentence" among them: the stock sentences of any story
    meeting: tuple[str, str, str]  # a template's opening, presider and speaker sentences
    meeting_title: str
    rewordings: tuple[tuple[str, str], ...]  # what an editor may reword, keeping the facts

    def __init__(self, rng: random.Random):
        self.rng = rng

    def fill(self, pattern: str, **fixed) -> str:
        return _Slots(self, fixed).format(pattern)

    def draw(self, slot: str, **fixed) -> str:
        return self.fill(self.rng.choice(self.patterns[slot]), **fixed)

    def number(self) -> str:
        return str(self.rng.randint(12, 480))

    def day(self) -> date:
        return date(2021, 1, 1) + timedelta(days=self.rng.randint(0, 900))

    def when(self, day: date | None = None) -> str:
        day = day or self.day()
        return self.fill(self.date_pattern, month=day.month, month_name=f"{day:%B}", day=day.day)


class _Slots(string.Formatter):
    def __init__(self, writer: Writer, fixed: dict):
        super().__init__()
        self.writer, self.fixed = writer, fixed

    def get_value(self, key, args, kwargs):
        if key in self.fixed:
            return self.fixed[key]
        if key in self.writer.words:
            return self.writer.rng.choice(self.writer.words[key])
        if key in self.writer.patterns:
            return self.writer.draw(key)
        return getattr(self.writer, key)()


class English(Writer):
    language, joiner = "en", " "
    date_pattern = "{month_name} {day}"
    words = {
        "place": tuple("Jiangsu Hubei Shandong Guangdong Sichuan Henan Zhejiang Fujian Hunan Anhui Shaanxi Yunnan "
                       "Liaoning Jilin Hebei Shanxi Guangxi Guizhou Gansu Hainan Tianjin Chongqing Shanghai Beijing "
                       "Qingdao Xiamen Ningbo Dalian Shenzhen Nanjing".split()),
        "trade": tuple("Port|Metro|Power Grid|Machinery|Chemical|Steel|Expressway|Water|Construction|Railway|Aviation|"
                       "Shipping|Grain|Textile|Pharmaceutical|Coal|Petroleum|Electronics|Auto|Tourism".split("|")),
        "kind": ("Group", "Company", "Holdings", "Research Institute", "Investment Group"),
        "surname": tuple("Zhang Wang Li Zhao Liu Chen Yang Huang Zhou Wu Xu Sun Ma Zhu Hu Guo He Lin Gao Luo Zheng "
                         "Liang Xie Song Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Pan Yuan Cai Jiang Yu Du".split()),
        "given": tuple("Wei Fang Min Jing Lei Jun Yong Jie Tao Ming Chao Xiulan Xia Ping Gang Hua Bo Hui Yan Zhigang "
                       "Xiaolei Jiaxu Kunjie Liulin Zhihua Hong Ning Rui Qiang Dan Lin Kai Shu Yun Peng Xin".split()),
        "topic": tuple("safety production|party history learning and education|high-quality development|"
                       "rural revitalization|green and low-carbon transformation|technological innovation|"
                       "the spirit of the 20th CPC National Congress|clean governance|primary-level Party building|"
                       "talent cultivation|epidemic prevention and control|state-owned enterprise reform|"
                       "digital transformation|risk prevention and control|quality and efficiency|"
                       "the integration of Party building and business|ideological and political work|"
                       "work style construction|the responsibility system for Party building|the mass line".split("|")),
        "activity": tuple("theoretical study session|training course for Party branch secretaries|work conference|"
                          "mobilization meeting|special democratic life meeting|knowledge contest|"
                          "theme Party day activity|symposium for young employees|promotion meeting|"
                          "debriefing and assessment meeting".split("|")),
        "verb": tuple("strengthen deepen promote consolidate implement improve advance enhance uphold integrate "
                      "standardize optimize".split()),
        "adjective": tuple("primary-level high-quality comprehensive long-term solid innovative standardized "
                           "grass-roots overall key effective systematic".split()),
        "noun": tuple("Party building|development|supervision|management system|talent team|working mechanism|"
                      "responsibility system|education and training|organizational life|service capacity|"
                      "production and operation|ideological work|discipline inspection|cadre selection|"
                      "employee welfare|project management|market expansion|cost control".split("|")),
        "group": tuple("Party members|young cadres|front-line employees|Party branch secretaries|"
                       "Party affairs staff|middle-level managers|technical backbones|retired employees".split("|")),
    }
    patterns = {
        "org": ("{place} {trade} {kind}",),
        "person": ("{surname} {given}",),
        "action": ("{verb} {adjective} {noun}", "{verb} the {noun} of {topic}"),
        "sentence": (
            "On {when}, the Party Committee of {org} held a {activity} on {topic}.",
            "{person}, secretary of the Party committee of {other_org}, attended the meeting and stressed the "
            "need to {action}.",
            "The meeting called on all units to {action} and {action}.",
            "{person} pointed out that we should {action}, {action} and {action}.",
            "More than {number} {group} from {number} units took part in the {activity}.",
            "Participants said that they would {action} and contribute to {topic}.",
            "In the next step, {org} will {action}, {action} and promote {topic} with {adjective} measures.",
            "The {group} studied {topic} in light of the actual situation and {action}.",
        ),
        "other_org": ("{place} {trade} {kind}",),
        "title": ("{org} held a {activity}",),
        "editor_line": ("Editor: {person}", "(Reprinted from the WeChat account of {other_org})",
                        "Editor's note: this article was first published by {other_org}."),
        "title_prefix": ("Reprint: ", "{other_org}: ", "[Party Building] ", "Focus | "),
    }
    meeting = ("On {when}, the Party Committee of {org} held the {ordinal} theoretical study session of {year}.",
               "{person}, secretary of the Party committee, presided over the session.",
               "{person} gave a lecture, and {number} members of the study group took part.")
    meeting_title = "{org} held the {ordinal} theoretical study session"
    rewordings = (("attended the meeting and stressed the need to", "was present and called for efforts to"),
                  ("The meeting called on all units to", "All units were asked at the meeting to"),
                  ("pointed out that we should", "said it was necessary to"),
                  ("took part in the", "participated in this"),
                  ("Participants said that they would", "The participants expressed their determination to"),
                  ("In the next step,", "Going forward,"),
                  ("in light of the actual situation and", "based on their own work and went on to"))

    @staticmethod
    def ordinal(n: int) -> str:
        return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


class Chinese(Writer):
    language, joiner = "zh", ""
    date_pattern = "{month}月{day}日"
    words = {
        "place": tuple("郑州 洛阳 开封 信阳 新乡 安阳 南阳 许昌 周口 商丘 平顶山 焦作 濮阳 漯河 三门峡 驻马店 鹤壁 济源".split()),
        "trade": tuple("投资 交通 水务 城建 能源 机械 化工 港务 粮食 供电 文旅 建工 农业 金融".split()),
        "kind": ("集团", "公司", "有限公司", "控股集团", "发展集团"),
        "surname": tuple("王 李 张 刘 陈 杨 赵 黄 周 吴 徐 孙 胡 朱 高 林 何 郭 马 罗 梁 宋 郑 谢 韩 唐 冯 于 董 萧".split()),
        "given": tuple("伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 建华 国庆 志强 喆 晓东 海燕".split()),
        "topic": tuple("学习贯彻党的二十大精神 主题教育 党史学习教育 安全生产 乡村振兴 廉洁文化建设 基层党组织建设 "
                       "意识形态工作 作风建设 科技创新 国企改革 数字化转型 风险防控 提质增效 模范机关创建".split()),
        "activity": tuple("专题会议 理论学习中心组学习会 培训班 推进会 座谈会 观摩交流活动 动员大会 知识竞赛 述职评议会".split()),
        "verb": tuple("加强 深化 推动 巩固 落实 提升 弘扬 完善 推进 压实 强化 健全".split()),
        "object": tuple("基层党组织建设 党风廉政建设 安全生产责任 干部队伍建设 科技创新能力 企业高质量发展 理论武装工作 "
                        "意识形态工作 人才培养机制 全面从严治党 党建与业务融合 服务群众能力 监督执纪问责 "
                        "标准化规范化建设 组织生活制度 成本管控水平".split()),
        "group": tuple("党员干部 青年职工 一线职工 党支部书记 党务工作者 中层管理人员 技术骨干 离退休职工".split()),
    }
    patterns = {
        "org": ("{place}市{trade}{kind}",),
        "person": ("{surname}{given}",),
        "action": ("{verb}{object}",),
        "sentence": (
            "{when}，{org}党委召开{topic}{activity}。",
            "{other_org}党委书记{person}出席会议并强调，要{action}。",
            "会议要求，各单位要{action}，{action}。",
            "{person}指出，要{action}，{action}，{action}。",
            "来自{number}个单位的{number}名{group}参加{activity}。",
            "与会人员纷纷表示，将{action}，为{topic}贡献力量。",
            "下一步，{org}将{action}，{action}，以实际行动推动{topic}走深走实。",
            "{group}结合工作实际学习{topic}，{action}。",
        ),
        "other_org": ("{place}市{trade}{kind}",),
        "title": ("{org}召开{topic}{activity}",),
        "editor_line": ("责任编辑：{person}", "（来源：{other_org}微信公众号）", "编者按：本文转载自{other_org}。"),
        "title_prefix": ("【转载】", "{other_org}：", "【党建动态】", "聚焦｜"),
    }
    meeting = ("{when}，{org}党委召开{year}年{ordinal}理论学习中心组学习会。",
               "党委书记{person}主持会议。",
               "{person}作专题辅导，{number}名中心组成员参加学习。")
    meeting_title = "{org}党委召开{ordinal}理论学习中心组学习会"
    rewordings = (("出席会议并强调，要", "在会上要求，务必"), ("会议要求，各单位要", "会议强调，各级党组织必须"),
                  ("指出，要", "在讲话中指出，必须"), ("参加", "参与了此次"),
                  ("与会人员纷纷表示，将", "大家一致表示，今后将进一步"), ("下一步，", "今后，"),
                  ("结合工作实际学习", "联系本职工作深入学习"))

    @staticmethod
    def ordinal(n: int) -> str:
        return f"第{n}次"


@dataclass(frozen=True)
class LabelledArticle:
    url: str
    story: int  # articles with the same story are copies of one another
    title: str
    paragraphs: tuple[str, ...]
    published: date
    language: str
    template: int | None = None  # meetings written from one template share this

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def labelled_articles(seed: int, stories: int) -> list[LabelledArticle]:
    """Originals, reprints and template near-misses in a shuffled arrival order."""
    rng = random.Random(seed)
    articles: list[LabelledArticle] = []
    story = 0
    while story < stories:
        writer = (Chinese if rng.random() < 0.3 else English)(rng)
        originals = template_family(writer, story) if rng.random() < 0.2 else [original_story(writer, story)]
        for original in originals:
            articles.append(original)
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
                articles.append(reprint(writer, original, url=f"https://reprint.example/{len(articles)}"))
        story += len(originals)
    rng.shuffle(articles)  # a reprint may well be crawled before its original
    return articles


def original_story(writer: Writer, story: int) -> LabelledArticle:
    org = writer.draw("org")
    paragraphs = tuple(writer.joiner.join(writer.draw("sentence", org=org) for _ in range(writer.rng.randint(1, 4)))
                       for _ in range(writer.rng.randint(3, 7)))
    return LabelledArticle(f"https://origin.example/{story}", story, writer.draw("title", org=org), paragraphs,
                           writer.day(), writer.language)


def template_family(writer: Writer, first_story: int) -> list[LabelledArticle]:
    """Two to four meetings of one committee written from one template: the stock
    sentences are the same, the names, dates, session numbers and counts are not."""
    org = writer.draw("org")
    stock = [writer.draw("sentence", org=org) for _ in range(writer.rng.randint(6, 12))]
    meetings = []
    for number in range(writer.rng.randint(2, 4)):
        day, story = writer.day(), first_story + number
        slots = {"org": org, "when": writer.when(day), "ordinal": writer.ordinal(number + 2), "year": day.year}
        opening, presider, speaker = (writer.fill(pattern, **slots) for pattern in writer.meeting)
        sentences = [opening, presider, *stock[:len(stock) // 2], speaker, *stock[len(stock) // 2:]]
        paragraphs = tuple(writer.joiner.join(sentences[i:i + 3]) for i in range(0, len(sentences), 3))
        meetings.append(LabelledArticle(f"https://origin.example/{story}", story,
                                        writer.fill(writer.meeting_title, **slots), paragraphs, day,
                                        writer.language, template=first_story))
    return meetings


def reprint(writer: Writer, original: LabelledArticle, url: str) -> LabelledArticle:
    """The original as another site reprints it, with one to three of the usual edits."""
    copy = replace(original, url=url, published=original.published + timedelta(days=writer.rng.randint(0, 6)))
    for edit in sorted(writer.rng.sample(EDITS, writer.rng.randint(1, 3)), key=EDITS.index):
        copy = edit(writer, copy)
    return copy


def new_title_prefix(writer: Writer, article: LabelledArticle) -> LabelledArticle:
    return replace(article, title=writer.draw("title_prefix") + article.title)


def editor_line(writer: Writer, article: LabelledArticle) -> LabelledArticle:
    line = (writer.draw("editor_line"),)
    paragraphs = line + article.paragraphs if writer.rng.random() < 0.5 else article.paragraphs + line
    return replace(article, paragraphs=paragraphs)


def trimmed_last_paragraph(writer: Writer, article: LabelledArticle) -> LabelledArticle:
    if len(article.paragraphs) < 3:
        return article
    return replace(article, paragraphs=article.paragraphs[:-1])


def whitespace_and_punctuation(writer: Writer, article: LabelledArticle) -> LabelledArticle:
    swaps = [(", ", " ,  "), ("，", ", "), (". ", ".  "), ("。", ". "), ("-", " - ")]
    paragraphs = list(article.paragraphs)
    for before, after in writer.rng.sample(swaps, 2):
        paragraphs = [paragraph.replace(before, after) for paragraph in paragraphs]
    if len(paragraphs) > 1:  # two paragraphs run together
        i = writer.rng.randrange(len(paragraphs) - 1)
        paragraphs[i:i + 2] = [paragraphs[i] + " " + paragraphs[i + 1]]
    return replace(article, paragraphs=tuple(paragraphs))


def reworded_sentence(writer: Writer, article: LabelledArticle) -> LabelledArticle:
    """One sentence reworded by the reprinting editor: other words, the same facts."""
    candidates = [(i, before, after) for i, paragraph in enumerate(article.paragraphs)
                  for before, after in writer.rewordings if before in paragraph]
    if not candidates:
        return article
    i, before, after = writer.rng.choice(candidates)
    paragraphs = list(article.paragraphs)
    paragraphs[i] = paragraphs[i].replace(before, after, 1)
    return replace(article, paragraphs=tuple(paragraphs))


EDITS = [new_title_prefix, editor_line, trimmed_last_paragraph, whitespace_and_punctuation, reworded_sentence]
