"""Build the small sample corpus in data/sample/ from the bracket-annotated sentences below.

All sentences in this file are original text written for ner (MIT licence like the rest of
the project); none is taken from CoNLL-2003 or any other dataset or news source.

Notation: one sentence per line, tokens already separated by single spaces (Penn Treebank
style: ``Paris .``, ``Lopez 's``, ``did n't``), entities written as ``[TYPE tok tok]`` with
TYPE one of PER, LOC, ORG, MISC. A line that starts with whitespace continues the sentence on
the line before it (only to keep lines short). Lines starting with ``#`` are comments.

Regenerate train.txt, dev.txt, test.txt and README.md (counts included) with:

    python data/sample/build_sample.py

The split is a fixed shuffle (random.Random(0)), so the output is deterministic.
"""

from __future__ import annotations

import random
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
TYPES = ("PER", "LOC", "ORG", "MISC")
SPLIT_SIZES = {"test": 120, "dev": 120}  # whatever remains goes to train
SEED = 0
MIN_TOKENS, MAX_TOKENS = 2, 35  # 2 allows datelines such as "LISBON 2021-03-04"
# lower-case tokens that may legitimately appear inside a name
NAME_PARTICLES = {
    "de",
    "da",
    "do",
    "dos",
    "das",
    "del",
    "la",
    "le",
    "van",
    "von",
    "der",
    "den",
    "al",
    "bin",
    "of",
    "the",
    "and",
    "for",
    "&",
    "y",
    "du",
    "des",
    "di",
    "el",
    "on",
    "in",
    "upon",
    "'s",
    "a",
}

Sentence = list[tuple[str, str]]


class FormatError(ValueError):
    pass


def parse_line(line: str, where: str) -> Sentence:
    """Turn one bracket-annotated line into (token, IOB2 tag) pairs."""
    out: Sentence = []
    current: str | None = None  # entity type while inside brackets
    first = False
    for raw in line.split():
        tok = raw
        if tok.startswith("["):
            if current is not None:
                raise FormatError(f"{where}: nested bracket at {raw!r}")
            etype = tok[1:]
            if etype not in TYPES:
                raise FormatError(f"{where}: unknown entity type {etype!r}")
            current, first = etype, True
            continue
        closing = tok.endswith("]") and len(tok) > 1
        if closing:
            tok = tok[:-1]
            if current is None:
                raise FormatError(f"{where}: ']' without '[' at {raw!r}")
        if not tok or "[" in tok or "]" in tok:
            raise FormatError(f"{where}: bad token {raw!r}")
        if current is None:
            out.append((tok, "O"))
        else:
            if tok.islower() and tok not in NAME_PARTICLES:
                raise FormatError(f"{where}: lower-case token {tok!r} inside an entity")
            out.append((tok, ("B-" if first else "I-") + current))
            first = False
        if closing:
            current = None
    if current is not None:
        raise FormatError(f"{where}: unclosed bracket")
    if not MIN_TOKENS <= len(out) <= MAX_TOKENS:
        raise FormatError(f"{where}: {len(out)} tokens (allowed {MIN_TOKENS}-{MAX_TOKENS})")
    return out


def parse_corpus(text: str) -> list[Sentence]:
    lines: list[str] = []
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if raw[0].isspace():
            if not lines:
                raise FormatError("continuation line before any sentence")
            lines[-1] += " " + raw.strip()
        else:
            lines.append(raw.strip())
    sentences = [parse_line(line, f"sentence {i + 1} ({line[:40]}...)") for i, line in enumerate(lines)]
    seen: dict[tuple[str, ...], int] = {}
    for i, sent in enumerate(sentences):
        key = tuple(t for t, _ in sent)
        if key in seen:
            raise FormatError(f"sentence {i + 1} duplicates sentence {seen[key] + 1}: {' '.join(key)}")
        seen[key] = i
    return sentences


def entities(sent: Sentence) -> list[tuple[str, str]]:
    """(type, surface) for every entity in an IOB2-tagged sentence."""
    found: list[tuple[str, str]] = []
    for tok, tag in sent:
        if tag.startswith("B-"):
            found.append((tag[2:], tok))
        elif tag.startswith("I-"):
            etype, surface = found[-1]
            found[-1] = (etype, surface + " " + tok)
    return found


def to_conll(sentences: list[Sentence]) -> str:
    return "\n\n".join("\n".join(f"{tok} {tag}" for tok, tag in sent) for sent in sentences) + "\n"


def skeleton(sent: Sentence) -> str:
    """The sentence with every entity replaced by its type and digits masked: spots templates."""
    parts = [tag[2:] if tag != "O" else re.sub(r"\d", "0", tok) for tok, tag in sent if not tag.startswith("I-")]
    return " ".join(parts)


def stats(sentences: list[Sentence]) -> dict[str, int]:
    ents = [e for s in sentences for e in entities(s)]
    counts = Counter(t for t, _ in ents)
    row = {"sentences": len(sentences), "tokens": sum(len(s) for s in sentences), "entities": len(ents)}
    row.update({t: counts[t] for t in TYPES})
    row["no-entity sentences"] = sum(1 for s in sentences if not entities(s))
    return row


def split(sentences: list[Sentence]) -> dict[str, list[Sentence]]:
    order = list(range(len(sentences)))
    random.Random(SEED).shuffle(order)
    parts: dict[str, list[Sentence]] = {}
    start = 0
    for name, size in SPLIT_SIZES.items():
        parts[name] = [sentences[i] for i in order[start : start + size]]
        start += size
    parts["train"] = [sentences[i] for i in order[start:]]
    return parts


def readme(table: dict[str, dict[str, int]], unseen: dict[str, float]) -> str:
    cols = ["sentences", "tokens", "entities", *TYPES, "no-entity sentences"]
    lines = [
        "# Sample corpus",
        "",
        "Original text written for ner; MIT licence like the rest of the project. Nothing is taken from"
        " CoNLL-2003 or any other dataset or news source; people's names are invented.",
        "`train.txt`, `dev.txt`, `test.txt`: `token TAG` per line (IOB2; PER, LOC, ORG, MISC), a blank line"
        " between sentences. `raw.txt` is untokenised text for `ner tag data/sample/raw.txt`.",
        "Regenerate with `python data/sample/build_sample.py`, which also writes the counts below"
        f" (entity mentions unseen in train: dev {unseen['dev']:.0%}, test {unseen['test']:.0%}).",
        "",
        "| file | " + " | ".join(cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    for name in ("train", "dev", "test"):
        lines.append(f"| {name}.txt | " + " | ".join(str(table[name][c]) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    try:
        sentences = parse_corpus("\n".join(CORPUS))
    except FormatError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    skel = Counter(skeleton(s) for s in sentences)
    for sk, n in skel.items():
        if n > 1 and len(sk.split()) >= 6:
            print(f"warning: {n} sentences share the template {sk!r}", file=sys.stderr)
    parts = split(sentences)
    train_names = {e for s in parts["train"] for e in entities(s)}
    unseen = {}
    for name in ("dev", "test"):
        ents = [e for s in parts[name] for e in entities(s)]
        unseen[name] = sum(e not in train_names for e in ents) / max(1, len(ents))
    table = {}
    for name in ("train", "dev", "test"):
        (HERE / f"{name}.txt").write_text(to_conll(parts[name]), encoding="utf-8")
        table[name] = stats(parts[name])
    (HERE / "README.md").write_text(readme(table, unseen), encoding="utf-8")
    header = ["file", "sentences", "tokens", "entities", *TYPES, "no-entity sentences"]
    print("\t".join(header))
    for name in ("train", "dev", "test"):
        print("\t".join([name] + [str(table[name][c]) for c in header[1:]]))
    print(f"unseen entity mentions: dev {unseen['dev']:.1%}, test {unseen['test']:.1%}")
    return 0


# ---------------------------------------------------------------------------------------------
# The sentences, grouped by genre. Each group is a plain string; CORPUS lists them all.
# ---------------------------------------------------------------------------------------------

SPORT = """
[PER Ana Costa] scored twice as [ORG Porto Athletic] beat [ORG Braga United] 3-1 on Saturday .
[ORG Bayern Munich] signed the [MISC Danish] defender [PER Mikkel Ravnsholt] on a four-year contract .
The match in [LOC Munich] was delayed for 20 minutes after a floodlight failure .
[PER Tomasz Wilk] won the 10,000 metres in 27 minutes 51.08 seconds , the fastest time of the season .
[LOC Brazil] beat [LOC Uruguay] 2-0 in a friendly in [LOC Montevideo] on Wednesday .
Goalkeeper [PER Jorge Salvatierra] saved two penalties in the shoot-out .
[ORG Ajax] coach [PER Pieter Hoogland] said his side had deserved at least a draw .
" We were too slow in the first half , " [PER Hoogland] told reporters .
[PER Keiko Tanabe] of [LOC Japan] retained her world judo title in [LOC Budapest] .
The [MISC Kenyan] runner pulled out of the race with a hamstring injury .
[ORG Real Sociedad] moved up to fourth place in the [MISC Spanish] league .
Rain stopped play at [LOC Lord 's] shortly after tea with [LOC England] on 212 for six .
[PER Daniel Okafor] hit an unbeaten 104 , his third century of the summer .
[ORG Celtic] and [ORG Rangers] drew 1-1 in front of a crowd of 58,000 .
The [MISC Tour de France] leader lost almost two minutes on the final climb .
[PER Luca Ferraresi] crashed on a wet descent and was taken to hospital in [LOC Grenoble] .
[ORG FIFA] fined the federation 40,000 [MISC Swiss] francs for crowd trouble .
[PER Sofia Lindqvist] beat [PER Marta Kowalczyk] 6-4 3-6 7-5 to reach the semi-finals .
She will next play the [MISC Belgian] eighth seed , [PER Elise Vandamme] .
Results of first-round matches at the [MISC Hamburg Open] on Tuesday :
[ORG Boca Juniors] 2 [ORG Racing Club] 2
[ORG Lyon] 0 [ORG Marseille] 1
[ORG Feyenoord] 4 [ORG Twente] 0
Third-placed [ORG Kilmarnock] have not won away from home since August .
The [MISC Olympic] champion finished a disappointing sixth in [LOC Oslo] .
[PER Aisha Bello] , 19 , became the youngest winner in the history of the event .
[LOC New Zealand] named an unchanged side for the second test against [LOC South Africa] .
Striker [PER Mateus Pinheiro] has been ruled out for six weeks with a broken toe .
[ORG Galatasaray] are three points clear at the top of the table with five games left .
The [MISC Norwegian] skier won the downhill by a margin of 0.42 seconds .
Nobody expected the home side to survive the first round .
[ORG Inter Milan] confirmed that the midfielder had agreed terms with a club in [LOC Saudi Arabia] .
The [MISC World Cup] qualifier will be played behind closed doors in [LOC Tbilisi] .
[PER Ruben Achterberg] 's late header gave [ORG PSV] a 2-1 win at [ORG Heerenveen] .
[PER Chen Wei] and [PER Liu Fang] won the mixed doubles title in [LOC Jakarta] .
Attendance at second-division games has fallen by 12 percent this season .
[ORG Leinster] ran in six tries to crush [ORG Glasgow Warriors] 45-10 .
[PER Ibrahim Sesay] was sent off in the 34th minute for a second yellow card .
The [MISC Argentine] champions had not lost at home for 31 matches .
[PER Nadia Haddad] set a national record of 4.71 metres in the pole vault .
[ORG Valencia] sacked their coach after a run of seven games without a win .
[LOC Ireland] will host the final round of the tournament next June .
[PER Olek Marchenko] , the [MISC Ukrainian] heavyweight , knocked out his opponent in the fourth round .
[ORG Manchester City] 's reserve team lost 3-0 to a side of teenagers .
The [MISC Davis Cup] tie between [LOC Chile] and [LOC Peru] will be played on clay .
[PER Greta Holm] finished second behind the [MISC Swiss] world champion in the giant slalom .
Cricket scores from the one-day international in [LOC Colombo] :
[LOC Sri Lanka] 251-8 in 50 overs ( [PER Ravi Jayasuriya] 88 , [PER Kamal Perera] 41 )
Play was abandoned without a ball bowled because of a waterlogged outfield .
[PER Dmitri Volkov] won the stage and took the leader 's jersey from [PER Jan Beekman] .
[ORG Borussia Dortmund] will face [ORG Benfica] in the quarter-finals of the [MISC Champions League] .
The draw for the next round was made at the headquarters of [ORG UEFA] in [LOC Nyon] .
[PER Marco Bellandi] became the first [MISC Italian] to win the race since 1998 .
Veteran forward [PER Samuel Mensah] announced his retirement at the age of 36 .
[ORG Yorkshire] need 140 runs on the last day to beat [ORG Somerset] .
[PER Hana Novakova] of the [LOC Czech Republic] won the women 's sprint .
The [MISC Grand Prix] in [LOC Monaco] was won by a driver starting from seventh on the grid .
[PER Kai Brennan] took pole position with a lap of one minute 12.334 seconds .
[ORG Scuderia Rossa] said both cars would use new engines in [LOC Silverstone] .
" It was the best day of my career , " said [PER Brennan] , who is 22 .
[LOC Cameroon] scored twice in the last ten minutes to stun [LOC Egypt] .
[ORG Al Ahly] have reached the final of the [MISC African Champions League] for a sixth time .
The stadium in [LOC Cardiff] was sold out within three hours .
[PER Freya Lind] swam the 200 metres butterfly in two minutes 6.17 seconds .
Fourth-seeded [PER Arjun Mehta] lost in straight sets to a qualifier from [LOC Taiwan] .
[ORG Olympiakos] have appealed against the three-match stadium ban .
Halfback [PER Tevita Fonua] scored two tries on his debut for [ORG Wigan] .
[LOC Australia] lead the five-match series 2-1 with one game to play .
A crowd of just 3,400 watched the final of the regional cup .
[PER Esther Mwangi] led from start to finish to win the [MISC Berlin Marathon] .
The club 's new stadium will hold 42,000 spectators when it opens in 2027 .
[PER Paulo Ribeiro] resigned as coach of the [MISC Brazilian] under-20 team on Monday .
[ORG Partizan] beat [ORG Red Star] 81-76 in the derby at the [LOC Belgrade Arena] .
Basketball results from [LOC Athens] on Sunday :
[PER Yusuf Demir] missed a penalty in stoppage time and [ORG Trabzonspor] lost 1-0 .
The [MISC Scottish] champions start their defence against a promoted side .
[PER Lena Hartmann] won her first [MISC World Cup] race at the age of 29 .
[ORG Kashima Antlers] beat [ORG Urawa Reds] 2-1 in front of 38,000 fans .
Bad light ended play early , with the visitors 56 for two in reply .
[PER Sebastian Ortiz] rode a perfect round to win the show jumping title .
[LOC Fiji] upset [LOC Wales] 24-21 in the opening game of the tournament .
[PER Marcus Lindgren] will miss the rest of the season after knee surgery .
Both teams finished with ten men after a brawl in the second half .
The [MISC Commonwealth Games] will return to [LOC Glasgow] next year .
[ORG Everton] have had a bid of 25 million pounds for the winger rejected .
Tickets for the final cost between 40 and 250 euros .
[PER Oscar Dahl] 's hat-trick kept [ORG Malmo] top of the [MISC Swedish] league .
[LOC Canada] won the ice hockey gold after beating [LOC Finland] 3-2 in overtime .
[PER Rania Saleh] became the first woman to referee a league match in the country .
"""

BUSINESS = """
Shares in [ORG Kestrel Foods] fell 8 percent after the company cut its profit forecast .
[ORG Norvale Systems] said on Tuesday it would cut 1,200 jobs in [LOC Germany] and [LOC Poland] .
The [MISC Japanese] carmaker plans to build a battery plant near [LOC Nagoya] .
Chief executive [PER Helen Marchetti] told analysts that demand had recovered in the second quarter .
Profit before tax rose to 412 million euros from 365 million a year earlier .
[ORG Blue Harbour Bank] agreed to buy the [MISC Dutch] lender [ORG Van Rijn Capital] for $ 2.1 billion .
The deal still needs approval from regulators in [LOC Brussels] .
[ORG Altamira Mining] halted production at its copper mine in northern [LOC Chile] after a strike .
Oil prices rose for a third day on fears of supply disruption in the [LOC Gulf] .
The dollar was trading at 151.20 yen in late [MISC Asian] trade .
[ORG Corvid Airlines] will add daily flights from [LOC Dublin] to [LOC Boston] in May .
A spokeswoman for the airline declined to comment on the report .
[ORG Halvorsen Shipping] , based in [LOC Bergen] , ordered six new container vessels .
Analysts had expected earnings of 0.84 dollars a share .
The [ORG European Central Bank] left interest rates unchanged at its meeting on Thursday .
Inflation in the euro zone slowed to 2.4 percent in March .
[ORG Tessaract Labs] raised 60 million dollars from investors led by [ORG Greyfield Ventures] .
The start-up , founded in [LOC Tallinn] in 2019 , makes software for hospital scheduling .
[PER Rajesh Kulkarni] will step down as chairman of [ORG Sundara Textiles] at the end of the year .
[ORG Mercado Verde] opened 40 new supermarkets in [LOC Mexico] last year .
Retail sales in [LOC Britain] rose 0.6 percent in January , beating forecasts .
The [ORG Tokyo Stock Exchange] 's main index closed 1.3 percent higher .
[ORG Orinoco Petroleum] denied that it was in talks to sell its refinery in [LOC Aruba] .
Workers at the plant voted to accept a 5 percent pay rise over two years .
[ORG Lindqvist & Berg] , the [MISC Swedish] furniture maker , reported a loss of 18 million crowns .
[ORG Pacifica Telecom] launched its new [MISC Horizon X2] handset in [LOC Seoul] on Monday .
The phone will go on sale in [LOC Europe] in September at a price of 899 euros .
Coffee futures hit a two-year high as dry weather hurt crops in [LOC Brazil] and [LOC Vietnam] .
[ORG Ironbridge Holdings] said first-half revenue rose 14 percent to 3.2 billion pounds .
The [MISC Canadian] dollar weakened after the jobs data .
[PER Fatima Zahra Idrissi] was named finance director of [ORG Atlas Energy] .
The company has about 8,500 employees in 23 countries .
[ORG Westmark Insurance] expects claims of around 90 million dollars from the storms .
Gold was quoted at 2,314.50 dollars an ounce , up from 2,298.00 on Friday .
The [ORG International Monetary Fund] raised its growth forecast for [LOC India] to 6.8 percent .
Trading in the shares was suspended pending an announcement .
[ORG Sakura Denki] will close its television factory in [LOC Malaysia] next March .
[PER Gunnar Ekdahl] , an analyst at [ORG Nordlys Securities] , said the results were " solid but dull " .
Grain exports from [LOC Ukraine] fell sharply in the first half of the year .
[ORG Bellweather Brewing] bought a small craft brewery in [LOC Portland] for an undisclosed sum .
The central bank of [LOC Turkey] raised its main rate by 250 basis points .
[ORG Rosemont Pharma] said its new asthma drug , [MISC Respira] , had been approved in [LOC Canada] .
Sales of electric cars in [LOC Norway] now exceed those of petrol and diesel models .
[ORG Kaveri Steel] reported net profit of 14.6 billion rupees for the year to March .
The company did n't say how many stores would close .
Hotel bookings in [LOC Lisbon] were 11 percent above last year 's level in August .
[ORG Granite Peak Capital] sold its stake in the [MISC Australian] miner for 410 million dollars .
Unemployment in [LOC Spain] fell to its lowest level since 2008 .
The board recommended a final dividend of 21.5 pence a share .
[PER Nkechi Adeyemi] , founder of [ORG Lagos Fintech Partners] , said mobile payments had grown fivefold .
[ORG Volta Rail] won a contract worth 1.4 billion euros to build trains for [LOC Egypt] .
Shareholders rejected the pay package for the chief executive at the annual meeting .
[ORG Aurelia Cosmetics] will list its shares in [LOC Milan] early next year .
The [MISC French] group has been hit by weak demand in [LOC China] .
[ORG World Bank] economists warned that debt levels in poor countries were unsustainable .
Copper for three-month delivery rose 1.1 percent to 9,450 dollars a tonne .
[ORG Harbinger Media] , which owns the [ORG Morning Ledger] , is to cut 300 newsroom jobs .
Consumer confidence in [LOC Germany] fell for a fourth month in a row .
The merger would create the largest cement maker in [LOC South America] .
[PER Owen Pritchard] has joined [ORG Clearwater Advisors] as head of research .
[ORG Solvik Energy] plans to build a 600-megawatt wind farm off the coast of [LOC Denmark] .
Wages grew faster than prices for the first time in two years .
[ORG Pinecrest Motors] recalled 84,000 vehicles in the [LOC United States] over a faulty brake sensor .
The [ORG Federal Reserve] is expected to keep rates on hold until September .
[ORG Amberline Logistics] opened a new warehouse outside [LOC Rotterdam] with 400 staff .
Rice prices in [LOC Thailand] rose after the government limited exports .
[ORG Quintessa] , the online fashion retailer , lost 42 million dollars in the quarter .
Its shares have fallen by more than half since the flotation .
[PER Yuki Morimoto] , chief financial officer of [ORG Sakura Denki] , will retire in June .
Factory output in [LOC South Korea] grew 3.2 percent from a year earlier .
The [ORG Organisation of Petroleum Exporting Countries] agreed to extend output cuts .
[ORG Baltic Timber] warned that high energy costs would hurt profits .
Airline passenger numbers at [LOC Frankfurt] airport are back to pre-pandemic levels .
[ORG Calloway Foods] and [ORG Greenleaf Dairy] called off their planned merger on Wednesday .
Neither company gave a reason .
The [MISC Swiss] franc rose against the euro as investors sought safety .
[ORG Monsoon Air] will take delivery of 12 new aircraft from [ORG Airbus] next year .
A weaker rupee helped [MISC Indian] software exporters .
Tourism accounts for about 15 percent of the economy of [LOC Croatia] .
[ORG Dunmore Textiles] , the last mill in the valley , will shut in October .
[PER Carlos Mendieta] said the firm had no plans to leave [LOC Argentina] despite the crisis .
Bond yields fell after weaker-than-expected manufacturing figures .
[ORG Everdeen Books] reported record sales of children 's titles over the holiday season .
[ORG Nakamura Robotics] shares jumped 19 percent on their first day of trading in [LOC Tokyo] .
The chipmaker expects revenue of between 4.1 and 4.3 billion dollars in the current quarter .
[LOC Ghana] 's cocoa board cut its forecast for the main crop .
"""

POLITICS = """
[MISC German] Chancellor [PER Klaus Reinhardt] arrived in [LOC Warsaw] for talks on energy security .
The [ORG United Nations Security Council] will meet on Friday to discuss the ceasefire .
Prime Minister [PER Amara Diallo] said the election would be held on 2025-11-16 .
Opposition leader [PER Viktor Halasz] accused the government of hiding the true cost of the bridge .
The [ORG Social Democrats] won 31 percent of the vote , their best result in a decade .
Voters in [LOC Scotland] go to the polls on Thursday .
[PER Elena Marin] , a former judge , was sworn in as president of [LOC Moldova] .
The [MISC Brazilian] foreign minister is due in [LOC Buenos Aires] next week .
Police estimated that 20,000 people marched through the centre of [LOC Madrid] .
The protest was largely peaceful , although a few shop windows were broken .
[ORG NATO] defence ministers agreed to increase the alliance 's presence in the [LOC Baltic] region .
[PER Ahmed Rashidi] , spokesman for the ministry , declined to give further details .
The [ORG European Union] extended sanctions for another six months .
Talks between the two sides broke down over the issue of water rights on the [LOC Nile] .
Parliament approved the budget by 212 votes to 187 .
[PER Ingrid Solberg] resigned as environment minister after a row over fishing quotas .
The [ORG Green Party] said it would not join a coalition led by the conservatives .
Diplomats said a deal could be reached before the end of the month .
The [MISC Iranian] delegation left [LOC Vienna] without making a statement .
[PER Tomas Baranauskas] , 54 , has been mayor of [LOC Kaunas] since 2015 .
The [ORG African Union] sent observers to monitor the vote .
[LOC Pakistan] and [LOC India] agreed to reopen a border crossing for pilgrims .
Senator [PER Margaret Ellison] said she would vote against the bill .
The [ORG Liberal Party] has chosen a 41-year-old lawyer as its new leader .
Few people in the capital expect the reforms to pass this year .
[MISC French] President [PER Claire Dumoulin] will visit [LOC Senegal] and [LOC Ivory Coast] in April .
The [ORG Council of Europe] criticised conditions in the country 's prisons .
Turnout was 63 percent , up slightly from the last election .
[PER Juan Pablo Echeverria] was elected governor of the province with 52 percent of the vote .
The [MISC Canadian] government announced new rules for foreign investment in farmland .
Negotiators from [LOC Serbia] and [LOC Kosovo] met in [LOC Brussels] on Monday .
The [ORG Red Cross] said it had been unable to reach the villages for three days .
Both chambers of the [ORG Congress] must approve the treaty .
[PER Sipho Ndlovu] , leader of the [ORG People 's Alliance] , called for early elections .
The ministry said 1,300 soldiers would be withdrawn by the end of the year .
[LOC Taiwan] protested after aircraft crossed the median line of the strait .
[PER Haruto Sato] is the third finance minister in [LOC Japan] in two years .
A [MISC Russian] diplomat was expelled from [LOC Estonia] on Wednesday .
The [ORG Constitutional Court] ruled that the law on public assemblies was invalid .
[PER Lucia Ferreira] , the [MISC Portuguese] ambassador , handed over a letter from her government .
The summit in [LOC Addis Ababa] ended without a joint statement .
[ORG Amnesty International] called for the release of 14 journalists .
The law takes effect on January 1 .
[PER Yusuf Karaman] , a member of parliament for the ruling party , switched sides on Tuesday .
[LOC Greece] and [LOC Turkey] agreed to resume talks on maritime borders .
The vote was postponed until after the holidays .
[ORG Labour] gained 14 seats in the local elections , mostly in the north of [LOC England] .
[PER Oksana Hrytsenko] said her party would challenge the result in court .
[MISC Mexican] officials said the new wall would not be built on their side of the border .
A government spokesman in [LOC Nairobi] denied the report .
The [ORG World Health Organization] welcomed the decision to fund a national vaccination programme .
Delegates from more than 190 countries are expected at the climate conference in [LOC Bonn] .
[PER Kwame Asante] , the central bank governor , was reappointed for a second term .
Ministers failed to agree on how to share the cost of the new border agency .
The [MISC Chinese] premier met business leaders in [LOC Shanghai] .
[PER Anders Nyberg] 's coalition lost its majority when two deputies resigned .
[ORG Human Rights Watch] said at least 40 people had been detained without charge .
Under the new rules , foreign nationals will need a visa to enter the country .
[PER Beatriz Salgado] , the health minister , tested positive for the virus .
Foreign ministers of the [ORG Arab League] will meet in [LOC Cairo] on Sunday .
The [MISC Kurdish] party boycotted the vote .
The mayor of [LOC Naples] , [PER Gennaro Esposito] , called for more police in the old town .
[LOC Venezuela] recalled its ambassador from [LOC Colombia] .
A referendum on the new constitution will be held in the autumn .
[ORG Reform Party] chairman [PER Mart Kask] stepped down after the defeat .
The [ORG International Court of Justice] in [LOC The Hague] will hear the case next year .
There was no immediate response from the embassy .
[PER Dilnoza Rakhimova] became the first woman to lead the [MISC Uzbek] delegation .
The bill would raise the retirement age from 65 to 67 .
[ORG Transparency International] ranked the country 87th out of 180 .
[MISC Polish] farmers blocked roads near the border with [LOC Germany] .
[PER Faisal Al-Harbi] , the oil minister , said output would stay unchanged .
Lawmakers voted 58-42 to confirm the nominee .
The [ORG Christian Democratic Union] is expected to choose a new leader in December .
The [MISC Lebanese] government resigned after weeks of protests .
Observers from the [ORG Organization for Security and Cooperation in Europe] said the count was orderly .
[PER Aiyana Redcloud] was elected to the state senate in [LOC New Mexico] .
The president 's approval rating fell to 38 percent .
"""

SCIENCE = """
Researchers at the [ORG University of Leeds] have found a new way to recycle wind turbine blades .
The study , published in the journal [ORG Nature] , involved more than 3,000 patients .
Dr. [PER Mariam Shah] and her team sequenced the genome of a rare alpine plant .
Astronomers using a telescope in [LOC Chile] detected water vapour around a distant planet .
The [ORG European Space Agency] will launch the probe from [LOC French Guiana] in 2026 .
Scientists say the glacier has lost a third of its volume since 1980 .
A vaccine developed by [ORG Helix Biotech] reduced infections by 71 percent in trials .
Professor [PER Ian Gallacher] said the results should be treated with caution .
The [ORG Max Planck Institute] in [LOC Leipzig] studies the evolution of language .
Engineers tested the new reactor design at a site near [LOC Toulouse] .
The satellite sent back its first images on Sunday , two weeks after launch .
[PER Priya Raman] , a physicist at [ORG Caltech] , won the prize for her work on quantum sensors .
Bees exposed to the pesticide foraged for shorter periods , the researchers found .
The hospital in [LOC Uppsala] is the first in [LOC Sweden] to use robots for hip surgery .
[ORG NASA] said the rover had drilled its tenth rock sample .
Doctors warned that cases of measles had risen sharply in eastern [LOC Europe] .
The software update fixes a flaw that let hackers read private messages .
[ORG Quillon] , a [MISC Finnish] security firm , discovered the bug in March .
Fossils found in [LOC Patagonia] belong to a dinosaur about 26 metres long .
[PER Tariq Aziz Mahmoud] led the team that dug up the bones over three summers .
A new strain of wheat can survive weeks of drought , according to trials in [LOC Kenya] .
The [ORG Indian Space Research Organisation] put three satellites into orbit on Saturday .
Volunteers counted 1,842 species of beetle in a single forest reserve .
[ORG Orbitline] plans to offer internet access from low-orbit satellites across [LOC Africa] .
The [MISC Linux] kernel now includes support for the new processors .
The drug is sold under the name [MISC Cardivex] in [LOC Europe] .
[PER Hiroshi Tanaka] of [ORG Kyoto University] said the material could replace silicon in some chips .
Children who slept less than eight hours scored lower on memory tests .
The trial was stopped early because the benefits were so clear .
Seismologists recorded more than 200 small tremors beneath the volcano .
[ORG CERN] physicists reported hints of a particle that does not fit the standard model .
The laboratory in [LOC Geneva] employs about 2,500 staff .
[PER Sara Lindahl] , who studies whales , said their songs had changed over two decades .
Sea ice in the [LOC Arctic] reached its smallest extent for the month of July .
A chatbot called [MISC Ferro] answered medical questions correctly in 82 percent of cases .
Its makers , [ORG Lumen AI] , said it was not meant to replace doctors .
The [ORG Royal Society] awarded its gold medal to a chemist from [LOC Nigeria] .
Dengue fever has spread to parts of southern [LOC France] for the first time .
Wild salmon numbers in the [LOC Tay] have fallen for five years in a row .
[PER Emeka Obi] designed a cheap water filter made from clay and sawdust .
Bats in the cave carry a virus related to the one that causes rabies .
The [ORG Pasteur Institute] in [LOC Dakar] is producing 30 million doses a year .
Clinical trials of the treatment will begin in [LOC Spain] and [LOC Italy] next spring .
The [MISC James Webb Space Telescope] captured images of a galaxy formed soon after the big bang .
[PER Lina Petrova] , 31 , built the first working prototype in her garage in [LOC Sofia] .
Mosquito nets treated with a new chemical cut malaria cases by half .
The algorithm can spot tumours on scans that human readers miss .
[ORG Mayo Clinic] doctors performed the operation on a 64-year-old man .
The [MISC Ares 4] lander will arrive in February 2027 .
Researchers counted the rings of trees in the [LOC Black Forest] to reconstruct past droughts .
A small earthquake shook [LOC Reykjavik] on Tuesday night , causing no damage .
[PER Ngozi Eze] was appointed head of the national centre for disease control .
The company 's new chip , the [MISC Vanta 9] , uses half the power of its predecessor .
Cyber attacks on hospitals doubled last year , the report said .
The [ORG Wellcome Trust] will fund the research for five years .
"""

TRAVEL = """
The [LOC Danube] flows through ten countries before reaching the [LOC Black Sea] .
From [LOC Lisbon] , the train to [LOC Porto] takes just under three hours .
The old town of [LOC Dubrovnik] is crowded with visitors from June to September .
Climbers set off for the summit of [LOC Kilimanjaro] before dawn .
[LOC Iceland] received more than two million tourists last year .
The ferry from [LOC Helsinki] to [LOC Tallinn] runs every two hours .
A new bridge across the [LOC Mekong] will link [LOC Laos] and [LOC Thailand] .
Hikers are advised to carry at least two litres of water .
The [LOC Atacama Desert] is one of the driest places on earth .
[ORG Lufthansa] cancelled 140 flights because of a strike by ground staff .
The coastal road from [LOC Split] to [LOC Makarska] has wonderful views .
Most visitors to [LOC Kyoto] come in spring for the cherry blossom .
The hotel , built in 1892 , has 48 rooms and a garden on the river .
[LOC Mount Kenya] is the second highest mountain in [LOC Africa] .
Trains between [LOC Milan] and [LOC Zurich] were suspended after a landslide .
The [MISC Inca] trail to [LOC Machu Picchu] is closed every February for repairs .
[LOC Zanzibar] is famous for its spices and white beaches .
Tickets for the museum must be booked at least a week in advance .
The [LOC Rhine] was so low in August that barges could carry only half loads .
[ORG Eurostar] will run extra trains between [LOC London] and [LOC Paris] over the holidays .
[LOC Patagonia] stretches across the southern tip of [LOC Argentina] and [LOC Chile] .
The village lies at 3,400 metres and can be reached only on foot .
[LOC Marrakesh] 's main square comes alive after sunset .
A night bus connects [LOC Hanoi] with the mountain town of [LOC Sapa] .
The [LOC Sahara] is expanding southwards by several kilometres a year .
Cyclists can follow the [LOC Loire] for more than 800 kilometres .
The [ORG National Trust] has reopened the gardens after a two-year restoration .
[LOC Bhutan] charges tourists a daily fee of 100 dollars .
Our guide , [PER Tenzin Norbu] , has climbed the pass more than 60 times .
The [LOC Amazon] carries more water than the next seven largest rivers combined .
A cable car takes visitors up [LOC Table Mountain] in about five minutes .
The airport in [LOC Queenstown] closed for two days because of snow .
[LOC Lake Titicaca] sits on the border between [LOC Peru] and [LOC Bolivia] .
In winter the canals of [LOC Amsterdam] sometimes freeze over .
The cheapest way to cross the island is by shared taxi .
[LOC Sicily] is the largest island in the [LOC Mediterranean] .
The [MISC Trans-Siberian] railway runs from [LOC Moscow] to [LOC Vladivostok] .
Visitors to [LOC Petra] should bring comfortable shoes and a hat .
Campsites along the [LOC Yukon River] open in late May .
The road over the pass is usually closed from November to April .
[LOC Cappadocia] is best seen from a hot-air balloon at sunrise .
The [LOC Seine] runs through the heart of [LOC Paris] .
A small museum in [LOC Gdansk] tells the story of the shipyard strikes .
Flights to the islands are often delayed by strong winds .
[LOC Tasmania] has some of the cleanest air in the world .
The [LOC Andes] form the longest mountain range on land .
"""

CULTURE = """
[PER Isabel Navarro] 's second novel , [MISC The Salt Road] , has been translated into 14 languages .
The film won the top prize at the [MISC Venice Film Festival] on Saturday .
[PER Kofi Boateng] directed the film on a budget of less than a million dollars .
The [ORG Rijksmuseum] in [LOC Amsterdam] will lend three paintings to a gallery in [LOC Tokyo] .
Tickets for the band 's tour of [LOC Australia] sold out in 20 minutes .
The opera , sung in [MISC Czech] , runs for nearly four hours .
[PER Mei Lin Zhou] plays a retired detective in the new series .
The [ORG Berlin Philharmonic] opened its season with a symphony by [PER Aarne Kivimaa] .
Critics praised the production but complained about the length .
[PER Aleksander Nowak] 's paintings sold for a total of 3.4 million euros at auction .
The festival in [LOC Edinburgh] features more than 3,000 shows every August .
[MISC Spanish] is the second most widely spoken first language in the world .
The library holds 40,000 books in [MISC Arabic] , [MISC Persian] and [MISC Turkish] .
[PER Gabriel Okonkwo] won the poetry prize for a collection about his childhood in [LOC Enugu] .
The album , [MISC Northern Lights] , went straight to number one in [LOC Sweden] .
The museum reopened after a restoration that cost 28 million pounds .
[ORG Bluehill Studios] bought the rights to the novel for a reported 2 million dollars .
The [MISC Booker Prize] jury praised the book 's " quiet courage " .
[PER Sven Ahlgren] , the conductor , died on Monday at the age of 88 .
He led the orchestra for 31 years and made more than 200 recordings .
The play transfers to [LOC Broadway] in the spring .
[PER Noura Khalil] 's documentary follows three families in [LOC Beirut] over one year .
Thousands of pilgrims gathered in [LOC Varanasi] for the festival .
The [MISC Hindu] festival of [MISC Diwali] is celebrated with lights and fireworks .
[MISC Catholic] bishops met in [LOC Rome] to discuss the shortage of priests .
The mosque , built in the 16th century , was badly damaged in the earthquake .
[MISC Buddhist] monks led the procession through the old city .
The [ORG Louvre] welcomed almost nine million visitors last year .
A new translation of [MISC Don Quixote] will be published in [MISC Korean] next year .
[PER Jonas Eriksen] won the [MISC Grammy] for best new artist .
The [MISC Eurovision Song Contest] will be held in [LOC Basel] .
Children in the village learn [MISC Quechua] at home and [MISC Spanish] at school .
[PER Carmen Ruiz Olmedo] has written six books on the history of flamenco .
The choir sang in [MISC Latin] , [MISC Welsh] and [MISC English] .
[ORG Silverfish Records] signed the [MISC Nigerian] singer [PER Temi Adebayo] last year .
The exhibition brings together 120 works from private collections .
[MISC Star Harbour] , the studio 's latest animated film , took 62 million dollars in its first weekend .
The [ORG British Museum] has agreed to return two bronze heads to [LOC Benin] .
[PER Akira Mori] 's photographs of [LOC Hiroshima] are on show in [LOC Hamburg] .
The ballet was first performed in [LOC St Petersburg] in 1895 .
The theatre will close for repairs from January until the autumn .
[PER Lucas Duarte] won best actor for his role as a fisherman in [MISC The Tide Keepers] .
The [MISC Cannes Film Festival] jury was led by a [MISC Mexican] director .
The [ORG Sydney Symphony Orchestra] toured [LOC China] for the first time in 12 years .
Her latest book , [MISC A House in Winter] , is set in rural [LOC Ireland] .
The [MISC Jewish] community of the city dates back to the 12th century .
[PER Yaw Mensah] , a jazz pianist from [LOC Accra] , played at the festival on Friday .
The game , [MISC Lantern Fall] , sold more than a million copies in a week .
Visitors will be able to see the manuscripts for the first time in 50 years .
[PER Anya Sokolova] 's ballet school in [LOC Riga] has trained dancers for 30 years .
The [MISC Nobel Prize in Literature] went to a poet who writes in [MISC Swahili] .
A statue of the composer was unveiled in the square where he was born .
The [ORG Guggenheim] in [LOC Bilbao] opened in 1997 .
[MISC Orthodox] priests blessed the waters of the [LOC Danube] on January 19 .
The [MISC Olympic] flame will be lit in [LOC Greece] in April .
Her songs are sung in [MISC Yoruba] and [MISC English] .
The [ORG Daily Courier] described the show as " a triumph of style over substance " .
The TV series [MISC Harbour Lights] was renewed for a third season .
[PER Elif Aydin] wrote the screenplay in just six weeks .
"""

WEATHER = """
Heavy rain caused flooding in parts of northern [LOC Italy] on Monday .
Temperatures in [LOC Seville] reached 44 degrees Celsius , a record for June .
Forecasters expect snow above 800 metres over the weekend .
Storm [MISC Helga] brought winds of up to 140 kilometres an hour to the coast of [LOC Norway] .
About 30,000 homes were left without power .
The [ORG Met Office] issued an amber warning for ice in [LOC Wales] .
A heatwave across [LOC Europe] has led to forest fires in [LOC Portugal] and [LOC Greece] .
Drought has reduced the level of [LOC Lake Kariba] to its lowest since 1996 .
Typhoon [MISC Kiko] is expected to make landfall in the [LOC Philippines] on Thursday .
Schools in [LOC Manila] were closed as a precaution .
It will be dry and sunny in the south , with highs of 24 degrees .
The [LOC Elbe] burst its banks in [LOC Dresden] after days of rain .
Firefighters from [LOC Spain] and [LOC France] helped tackle the blaze .
More than 400 millimetres of rain fell in 24 hours .
Monsoon rains killed at least 47 people in [LOC Bangladesh] , officials said .
The [ORG World Meteorological Organization] said last year was the warmest on record .
Fog delayed flights at [LOC Heathrow] for most of the morning .
A tornado destroyed dozens of homes in [LOC Oklahoma] on Sunday night .
Showers will clear by lunchtime , leaving a cold and bright afternoon .
The [LOC Po] is at its lowest level for 70 years .
Farmers in [LOC Australia] are hoping for rain after the driest winter in a decade .
Avalanche warnings remain in force across the [LOC Alps] .
Snow closed the main road between [LOC Ankara] and [LOC Istanbul] .
A cyclone forced the evacuation of 200,000 people from the coast of [LOC Mozambique] .
Weather forecast for [LOC Europe] on Wednesday :
Frost is likely overnight in sheltered valleys .
[LOC Athens] 28 sunny , [LOC Rome] 25 cloudy , [LOC Berlin] 17 rain .
Hurricane [MISC Lorena] weakened to a tropical storm as it crossed [LOC Cuba] .
The [ORG National Weather Service] said the river would peak on Friday .
Smog forced schools in [LOC Delhi] to close for a week .
Strong winds toppled trees and power lines across the region .
Tomorrow will be cooler , with a chance of thunder in the hills .
The wildfires in [LOC California] have burned more than 100,000 acres .
The last time the lake froze over completely was in 1963 .
[PER Erik Vasstrand] , a meteorologist , said the autumn had been unusually mild .
Hail the size of golf balls damaged cars in [LOC Lyon] .
"""

HEADLINES = """
SOCCER - [ORG PORTO ATHLETIC] HOLD [ORG BRAGA] TO GOALLESS DRAW .
TENNIS - [PER LINDQVIST] THROUGH TO SEMI-FINALS IN [LOC HAMBURG] .
GOLF - [MISC SCOTTISH] TEENAGER LEADS BY TWO SHOTS .
CRICKET - [LOC ENGLAND] COLLAPSE ON RAIN-HIT SECOND DAY .
RUGBY UNION - [LOC FIJI] STUN [LOC WALES] IN OPENER .
ATHLETICS - [PER MWANGI] WINS [MISC BERLIN MARATHON] .
CYCLING - [PER VOLKOV] TAKES LEAD AFTER MOUNTAIN STAGE .
MOTOR RACING - [PER BRENNAN] ON POLE FOR [MISC MONACO GRAND PRIX] .
BASKETBALL - [ORG PARTIZAN] WIN [LOC BELGRADE] DERBY .
SKIING - [MISC NORWEGIAN] TAKES DOWNHILL BY NARROW MARGIN .
[ORG NORVALE SYSTEMS] TO CUT 1,200 JOBS .
[ORG BLUE HARBOUR] AGREES $ 2.1 BILLION DEAL FOR [MISC DUTCH] LENDER .
OIL RISES FOR THIRD DAY ON SUPPLY FEARS .
[LOC CHILE] COPPER MINE HALTED BY STRIKE .
[MISC GERMAN] CHANCELLOR IN [LOC WARSAW] FOR ENERGY TALKS .
[ORG UN] COUNCIL TO MEET ON CEASEFIRE .
THOUSANDS MARCH IN [LOC MADRID] AGAINST RENT RISES .
[LOC MOLDOVA] SWEARS IN FORMER JUDGE AS PRESIDENT .
[ORG EU] EXTENDS SANCTIONS BY SIX MONTHS .
FLOODS HIT NORTHERN [LOC ITALY] .
TYPHOON NEARS [LOC PHILIPPINES] , SCHOOLS CLOSED .
RECORD HEAT IN [LOC SEVILLE] .
[MISC FRENCH] PRESIDENT TO VISIT [LOC SENEGAL] .
STOCKS FALL AS RATE FEARS RETURN .
[ORG SAKURA DENKI] TO CLOSE [MISC MALAYSIAN] TV PLANT .
[ORG CORVID AIRLINES] ADDS [LOC DUBLIN] - [LOC BOSTON] ROUTE .
SCIENTISTS FIND WATER ON DISTANT PLANET .
[ORG NASA] ROVER DRILLS TENTH SAMPLE .
[PER NAVARRO] NOVEL TRANSLATED INTO 14 LANGUAGES .
[MISC NIGERIAN] POET WINS PRIZE .
PRISON TERM FOR FORMER MAYOR .
TWO HURT IN [LOC LYON] TRAM CRASH .
[ORG AL AHLY] REACH [MISC AFRICAN] FINAL .
[LOC CANADA] BEAT [LOC FINLAND] TO TAKE HOCKEY GOLD .
[ORG LEINSTER] RUN RIOT AGAINST [ORG GLASGOW] .
[ORG VALENCIA] SACK COACH AFTER SEVEN WINLESS GAMES .
[LOC INDIA] GROWTH FORECAST RAISED .
GOLD EDGES HIGHER IN QUIET TRADE .
[ORG VOLTA RAIL] WINS [MISC EGYPTIAN] TRAIN ORDER .
NEW BRIDGE TO LINK [LOC LAOS] AND [LOC THAILAND] .
SOCCER - [MISC ENGLISH] LEAGUE RESULTS .
SOCCER - [LOC CAMEROON] BEAT [LOC EGYPT] WITH LATE GOALS .
"""

DATELINES = """
[LOC LISBON] 2021-03-04
[LOC NAIROBI] 2023-07-19
[LOC BUENOS AIRES] 2022-11-02
[LOC TOKYO] 2024-01-30
[LOC FRANKFURT] 2020-09-15
[LOC WELLINGTON] 2023-02-08
[LOC OSLO] 2021-12-01
[LOC CAIRO] 2022-05-27
[LOC TORONTO] 2024-06-11
[LOC HANOI] 2020-10-23
[LOC MARSEILLE] 2023-08-14
[LOC SANTIAGO] 2021-04-06
[LOC ISTANBUL] 2022-03-29
[LOC ACCRA] 2024-09-03
[LOC REYKJAVIK] 2023-01-17
[LOC NEW DELHI] 2021-08-21
[LOC BRUSSELS] 2024-02-05
[LOC JOHANNESBURG] 2022-07-12
"""

CRIME = """
A court in [LOC Lyon] sentenced the former mayor to three years in prison for fraud .
Police arrested four men after a raid on a warehouse in [LOC Antwerp] .
[PER Martin Keogh] , 47 , denied all charges when he appeared in court on Tuesday .
The jury took less than two hours to reach a verdict .
Two people were hurt when a tram left the tracks in central [LOC Lyon] .
[ORG Interpol] issued an arrest warrant for the businessman , who is believed to be in [LOC Dubai] .
Customs officers seized 1.2 tonnes of cocaine hidden in a shipment of bananas .
The [ORG Supreme Court] will hear the appeal in October .
[PER Rosa Delgado] , a lawyer for the family , said they would sue the city .
Thieves stole jewellery worth 2 million euros from a shop in [LOC Geneva] .
The accident happened at about 7:30 a.m. on the road to the airport .
[PER Jake Morrow] was fined 500 pounds for driving without insurance .
The [ORG FBI] is investigating the attack on the company 's computer systems .
Prosecutors said the gang had laundered money through banks in [LOC Cyprus] .
[PER Alina Popescu] was cleared of all charges after a four-week trial .
A fire at a block of flats in [LOC Glasgow] killed two people .
Firefighters said the cause was an electrical fault .
The [ORG Serious Fraud Office] opened an inquiry into the accounts of [ORG Ironbridge Holdings] .
A bus carrying 40 pilgrims overturned near [LOC Konya] .
[PER Mohammed Bakr] , the driver , was taken to hospital with minor injuries .
[LOC Kenya] 's anti-corruption agency froze the assets of three senior officials .
The suspect was arrested at the border with [LOC Austria] .
Judge [PER Harriet Lowe] said the crime had caused " untold misery " .
Police in [LOC Cape Town] found the missing boy safe and well .
The ship ran aground off the coast of [LOC Sardinia] with 600 passengers on board .
Nobody was injured in the blast , which happened shortly after midnight .
[PER Wei Zhang] admitted stealing data from his former employer , [ORG Orbitline] .
An appeals court in [LOC Milan] overturned the conviction .
[PER Luis Arroyo] and [PER Pedro Quintana] were each sentenced to 12 years .
The [ORG European Court of Human Rights] ruled that the prisoners had been treated unfairly .
Officers said the car had been travelling at more than 160 kilometres an hour .
Three climbers died in an avalanche on [LOC Mont Blanc] on Saturday .
Rescuers recovered the bodies after a search lasting two days .
The [MISC Italian] coastguard rescued 112 migrants in the [LOC Mediterranean] .
A [MISC Dutch] tourist was bitten by a shark off the coast of [LOC Queensland] .
[PER Sergei Antonov] was extradited from [LOC Spain] to face charges of fraud .
The trial is expected to last six months .
A gas explosion destroyed a bakery in [LOC Krakow] early on Friday .
[ORG Scotland Yard] said it had arrested a 19-year-old in connection with the attack .
Two guards were suspended after a prisoner escaped from the jail .
"""

SOCIETY = """
The school will open a second campus next year to cope with rising numbers .
[ORG University of Cape Town] students protested against a rise in fees .
More than half of the students come from outside [LOC Europe] .
[PER Margarethe Vogel] taught mathematics at the same school for 41 years .
The census showed that the population of the city had grown to 1.7 million .
Young people are leaving the villages for jobs in the capital .
The [ORG Salvation Army] served 9,000 hot meals on Christmas Day .
Volunteers planted 12,000 trees along the banks of the [LOC Thames] .
A survey of 2,000 adults found that one in four had not read a book in the past year .
[PER Rahul Bhatt] , a retired engineer , has repaired bicycles for free since 2010 .
The city council approved plans for 3,500 new homes on the site of the old docks .
Rents in [LOC Berlin] have doubled in ten years .
[ORG Oxfam] said food prices had pushed millions more people into hunger .
The bridge , opened in 1932 , will be closed for repairs for 18 months .
Nurses in [LOC New Zealand] went on strike for the first time in 30 years .
The [ORG National Health Service] spends about 15 percent of its budget on drugs .
[PER Olga Ivanova] , 102 , says the secret of a long life is walking every day .
Many shops in the old town now close on Sundays .
The town of [LOC Hallstatt] has asked tourists not to fly drones .
[ORG Doctors Without Borders] opened a clinic in the camp , which holds 60,000 refugees .
Half of all households in the region do not have running water .
[PER Thandiwe Khumalo] became the first person in her family to go to university .
The [MISC Roma] community in the city has been asking for a school of its own for years .
Cycling to work has become popular in [LOC Copenhagen] , where bike lanes are everywhere .
[PER Felipe Zamora] opened a bakery in [LOC Valparaiso] with 300 dollars he had saved .
Library visits rose by 9 percent last year , reversing a long decline .
The [ORG Boy Scouts] celebrated their centenary in the town with a parade .
Older residents say the market has changed beyond recognition .
[LOC Singapore] has one of the highest rates of home ownership in the world .
The [MISC Maori] language is now taught in most primary schools in [LOC New Zealand] .
Police closed the bridge for an hour while the parade passed .
[PER Giulia Conti] , 8 , raised 2,000 euros for the children 's hospital by selling drawings .
Workers at the factory will get four extra days of holiday .
[ORG Harvard University] received a gift of 300 million dollars from a former student .
A new ferry service will connect the island with the mainland from April .
The [MISC Ramadan] fast ends with the festival of [MISC Eid al-Fitr] .
Most of the children walk more than five kilometres to school .
[PER Henrik Aaltonen] built the sauna with his own hands in 1974 .
The [ORG Alpine Club] warned walkers to stay on marked paths .
Fewer than 200 people still speak the language fluently .
"""

HISTORY = """
The [MISC Roman] city was buried under ash in 79 AD .
[LOC Constantinople] fell to the [MISC Ottoman] army in 1453 .
The [LOC Berlin Wall] came down in November 1989 .
The treaty was signed in [LOC Versailles] in 1919 .
Archaeologists found [MISC Viking] coins on a farm in [LOC Denmark] .
The [ORG League of Nations] was founded after the [MISC First World War] .
The [LOC Silk Road] linked [LOC China] with the [LOC Mediterranean] .
Ruins of a [MISC Maya] city were found in the jungle of [LOC Guatemala] .
The castle has belonged to the same family for 600 years .
The [MISC Industrial Revolution] began in northern [LOC England] in the 18th century .
[LOC Carthage] was destroyed by [MISC Roman] forces in 146 BC .
The old harbour was used by [MISC Phoenician] traders almost 3,000 years ago .
The ship sank in 1628 , less than a mile into its first voyage .
Divers found the wreck at a depth of 3,000 metres .
The [MISC Aztec] capital stood on an island in a lake .
The cathedral took nearly 200 years to build .
"""

MIXED = """
[ORG Paris Saint-Germain] will play their home games outside [LOC Paris] while the stadium is rebuilt .
[PER Jordan Hale] , who grew up in [LOC Jordan] , now coaches a club in [LOC Amman] .
[LOC Washington] will send a delegation led by [PER Paul Washington] , a senior diplomat .
The [ORG Bank of England] kept rates on hold , the [ORG Morning Ledger] reported .
Oil platforms in the [LOC Gulf of Mexico] were evacuated ahead of the storm .
[LOC Victoria] 's premier , [PER Victoria Chen] , announced a state of emergency .
[ORG Manchester United] fans gathered outside the stadium in [LOC Manchester] .
[ORG Chelsea] are interested in the [MISC Ghanaian] winger , according to the [ORG Evening Star] .
Yesterday 's decision surprised almost everyone in the room .
Sales of the [MISC Corolla] rose 12 percent in [LOC Thailand] .
[ORG New York Times] reporters spent a month in [LOC New York] 's hospitals .
[PER Santiago Ramos] left [LOC Santiago] for [LOC Madrid] when he was 17 .
After the game , [PER Lopez] 's coach said nothing .
Never before had the river risen so fast .
[ORG Sporting Lisbon] and [ORG Benfica] both won , keeping the title race open .
The [ORG Inter-American Development Bank] lent [LOC Ecuador] 500 million dollars .
[MISC Ethiopian] and [MISC Kenyan] runners took the first seven places .
[LOC Georgia] 's wine exports to [LOC Russia] fell , while sales to [LOC China] rose .
[PER Georgia Banks] won the mayoral race in [LOC Savannah] , [LOC Georgia] .
Asked whether he would resign , the minister said : " No . "
Despite the rain , about 5,000 people turned out for the race .
[ORG Atletico Madrid] beat [ORG Athletic Bilbao] 2-0 to go second .
[PER Hannah Berg] won the race in [LOC Bergen] for the third year running .
What nobody had explained was where the money had gone .
[PER Sun Li] , [PER Mei Ito] and [PER Ravi Nair] share the lead on five under par .
The [ORG Toronto Maple Leafs] lost 4-1 to the [ORG Montreal Canadiens] .
[LOC Turkey] will host the [MISC European Championship] in 2032 together with [LOC Italy] .
Most analysts say the currency is still overvalued .
Why the pilots ignored the warning is still not clear .
[ORG Stade Rennais] , [ORG Nantes] and [ORG Lille] all lost at home .
Shipping through the [LOC Suez Canal] returned to normal on Sunday .
[PER Jan de Vries] , [PER Ahmed El Amrani] and [PER Lotte van der Berg] were elected to the board .
Only 14 of the 60 passengers were wearing seat belts .
The [MISC Democratic] candidate won the state by fewer than 11,000 votes .
[ORG Real Madrid] did n't play well , but it was enough to beat [ORG Getafe] .
Everything depends on the weather over the next few days .
[ORG Banco do Norte] , the second largest lender in [LOC Portugal] , posted a loss .
Will the new rules make any difference ? Few people think so .
Under the agreement , [LOC Norway] will buy 20 fighter jets from the [LOC United States] .
They had n't expected the [MISC American] team to be so strong .
[PER Kim Min-jun] won the tournament in [LOC Busan] by four strokes .
Local fishermen say the catch has been poor for three summers .
[PER Alexander] is the most popular name for boys born in [LOC Sweden] this year .
[ORG Hapoel Tel Aviv] lost 3-2 to [ORG Maccabi Haifa] in [LOC Tel Aviv] .
[ORG U.S. Treasury] officials said the talks in [LOC Beijing] had been useful .
[LOC U.S.] factory orders rose 1.4 percent in April .
In [LOC Milan] , [ORG AC Milan] drew 1-1 with [ORG Napoli] .
"""

PEOPLE = """
" The market is tired , " said [PER Marguerite Lefevre] , a trader at [ORG Crest Partners] in [LOC Paris] .
[PER Hamid Karimi] , who runs a small hotel in [LOC Shiraz] , said bookings had halved .
Asked about the transfer , [PER Dario Conte] said only that he was happy in [LOC London] .
[PER Bogdan Lis] and his brother [PER Piotr] founded the company in a garage in 1994 .
Former president [PER Arturo Villalobos] died in [LOC Lima] on Wednesday , aged 91 .
[PER Villalobos] led the country through the debt crisis of the 1980s .
[PER Ingrid Vasquez-Holm] will take over as editor of the [ORG Northern Gazette] in March .
Coach [PER Stefan Kraus] dropped three senior players for the trip to [LOC France] .
" I have never seen anything like it , " [PER Kraus] said .
[PER Mariana Lopes] , a nurse from [LOC Recife] , was among those rescued .
[PER Duc Anh Pham] , 26 , was named player of the tournament .
Minister [PER Leila Nasser] met [PER Jonathan Pryce-Evans] , the [MISC British] trade envoy , in [LOC Amman] .
[PER Abebe Tesfaye] won the race in two hours six minutes , ahead of [PER Kiprono Chebet] .
[PER Hugo Lambert] , the [MISC French] striker , has scored 11 goals in 14 games .
The award went to [PER Naledi Mokoena] for her reporting from [LOC Sudan] .
[PER Connor Walsh] and [PER Aoife Brennan] were married in [LOC Galway] on Saturday .
[PER Tanaka] said [ORG Sakura Denki] would not cut jobs in [LOC Japan] .
[PER Mustafa Yilmaz] , the owner of the ferry , was questioned by police .
[PER Pablo Herrera] is the new chairman of [ORG Porto Athletic] .
Speaking in [LOC Geneva] , [PER Anneliese Fuchs] of the [ORG United Nations] urged both sides to talk .
[PER Roberto Fabbri] , a [MISC Swiss] banker , was named as the new treasurer .
[PER Ewa Zielinska] 's family has farmed the same land near [LOC Lublin] for five generations .
[PER Mohammed Al-Sayed] told the court he had never met [PER Keogh] .
The party chose [PER Thomas Berger] over [PER Ulrike Stahl] by 312 votes to 290 .
Striker [PER Kasper Holm] joined [ORG Brondby] from [ORG Aalborg] for an undisclosed fee .
[PER Yasmin Farouk] , 34 , is the youngest person to run the [ORG Egyptian Museum] .
Actor [PER Tom Hadley] will play the lead in the new [ORG BBC] drama .
[PER Madeleine Dubois] of [LOC Belgium] won the silver medal , [PER Ana Ruiz] of [LOC Spain] the bronze .
[PER Ricardo Almeida] 's company makes shoes for [ORG Pinecrest Motors] ' racing team .
A spokesman for [PER Nilsson] said he would not comment on private matters .
[PER Vusi Dlamini] scored the winning try with two minutes left .
[PER Grace Oduya] , a farmer in western [LOC Kenya] , now sells her milk by mobile phone .
The book was written by [PER Henri Morel] and [PER Sylvie Morel] , his daughter .
[PER Fernando Ruiz] , the [ORG FIFA] official in charge of the draw , said it was fair .
[PER Ali Hassan] of [LOC Somalia] set a personal best in the 5,000 metres .
[PER Kirsten Dahl] has run the family 's bakery in [LOC Aarhus] since 1988 .
[PER Jae-won Park] , an engineer at [ORG Pacifica Telecom] , designed the camera .
[PER Mikhail Orlov] , the [MISC Russian] champion , withdrew with a wrist injury .
"""

CORPUS = [
    SPORT,
    BUSINESS,
    POLITICS,
    SCIENCE,
    TRAVEL,
    CULTURE,
    WEATHER,
    HEADLINES,
    DATELINES,
    CRIME,
    SOCIETY,
    HISTORY,
    MIXED,
    PEOPLE,
]


if __name__ == "__main__":
    sys.exit(main())
