"""The bundled stopword lists (English, Russian, French, German): function words that carry no topic.

Written for this project so that analysis never needs downloaded NLTK data. Surface forms, lower case,
with straight apostrophes; the analyzer removes them before stemming.
"""

from __future__ import annotations

_WORDS = """
    a about above across after afterwards again against ago all almost alone along already also although
    always am among amongst an and another any anybody anyhow anyone anything anyway anywhere are aren't
    around as at back be became because become becomes becoming been before beforehand behind being below
    beside besides between beyond both but by can cannot can't could couldn't did didn't do does doesn't
    doing done don't down during each either else elsewhere enough etc even ever every everybody everyone
    everything everywhere except few for former formerly from further had hadn't has hasn't have haven't
    having he he'd he'll hence her here hereafter hereby herein here's hers herself he's him himself his how
    however how's i i'd if i'll i'm in indeed into is isn't it its it's itself i've just least less let
    let's many may maybe me meanwhile might mine more moreover most mostly much must mustn't my myself
    namely neither never nevertheless next no nobody none noone nor not nothing now nowhere of off often on
    once one only onto or other others otherwise ought our ours ourselves out over own per perhaps rather
    same several shall shan't she she'd she'll she's should shouldn't since so some somebody somehow someone
    something sometime sometimes somewhere still such than that that's the their theirs them themselves
    then thence there thereafter thereby therefore therein there's these they they'd they'll they're
    they've this those though through throughout thus to together too toward towards under until up upon
    us very via was wasn't we we'd we'll were we're weren't we've what whatever what's when whence whenever
    when's where whereafter whereas whereby wherein where's wherever whether which while whither who
    whoever whole whom whose who's why why's will with within without won't would wouldn't yet you you'd
    you'll your you're yours yourself yourselves you've
"""

ENGLISH: frozenset[str] = frozenset(_WORDS.split())

# Russian, French and German: function words (pronouns, articles, prepositions, conjunctions, particles,
# auxiliary and modal verb forms) chosen for this project. Lower case, with their accents and ё, as they
# appear in text; the analyzer removes them before stemming.

_RUSSIAN = """
    а без более бы был была были было быть в вам вас весь во вот все всего всех вы где да даже для до его
    ее её ей ему если есть еще ещё же за здесь и из или им ими их к как какая какие каким какой когда кого
    кое ком кому кто ли либо между меня мне много может можно мой моя мы на над надо наш не него нее неё
    нет ни нибудь никогда ним них ничего но ну о об однако он она они оно от очень по под после потом
    потому почему при про раз с сам свой свою себе себя со так также такие такой там те тем то того тоже
    той только том тот ту ты у уже хотя чего чей чем что чтобы чье чьё эта эти это этого этой этом этот
    я будет будут было бы весьма всё всю вся которая которые который которых которым которого которой
    котором тех тому уж чём этих этим этому ею нём ней нею сейчас теперь тогда против через около
"""

_FRENCH = """
    a à ai aie ait alors as au aucun aucune aujourd'hui auprès aussi autre autres aux avaient avais avait
    avant avec avez aviez avoir avons ayant c ça car ce ceci cela celle celles celui cependant certains ces
    cet cette ceux chaque chez ci comme comment contre d dans de depuis des dès deux devant doit donc dont
    du elle elles en encore entre est et étaient était étant été être eu eux fait faire fois font hors ici
    il ils j je jusqu jusque l la là le les leur leurs lors lorsque lui m ma mais me même mêmes mes moi
    moins mon n ne ni nos notre nous on ont or ou où par parce parmi pas peu peut plus plusieurs pour
    pourquoi qu quand que quel quelle quelles quels qui quoi s sa sans se selon ses si sien soi soient
    sois soit son sont sous sur t ta tandis te tes toi ton tous tout toute toutes très tu un une vers
    voici voilà vos votre vous y sera seront serait seraient aura auront aurait auraient déjà ainsi
"""

_GERMAN = """
    aber alle allem allen aller alles als also am an andere anderen anderer anderes auch auf aus bei beim
    bin bis bist da damit dann das dass daß dazu dein deine dem den denn der deren des dessen dich die
    dies diese diesem diesen dieser dieses dir doch dort du durch ein eine einem einen einer eines er es
    etwa euch euer eure für gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich ihm ihn
    ihnen ihr ihre ihrem ihren ihrer ihres im in indem ins ist jede jedem jeden jeder jedes jene jenem
    jenen jener jenes jetzt kann kein keine keinem keinen keiner können könnte man manche mein meine mich
    mir mit muss musste nach nicht nichts noch nun nur ob oder ohne sehr sein seine seinem seinen seiner
    seit sich sie sind so solche soll sollte sondern sonst über um und uns unser unsere unter viel vom
    von vor wann war waren warum was weil welche welchem welchen welcher welches wenn wer werde werden
    wie wieder will wir wird wo wollen wurde wurden zu zum zur zwar zwischen bereits sowie schon
"""

RUSSIAN: frozenset[str] = frozenset(_RUSSIAN.split())
FRENCH: frozenset[str] = frozenset(_FRENCH.split())
GERMAN: frozenset[str] = frozenset(_GERMAN.split())

#: The bundled list of each language that has one, by ISO 639-1 code.
BY_LANGUAGE: dict[str, frozenset[str]] = {"en": ENGLISH, "ru": RUSSIAN, "fr": FRENCH, "de": GERMAN}
