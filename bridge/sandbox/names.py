"""Khmer name tables for the synthetic children generator.

Written for this project from general knowledge of Cambodian naming (not taken from the
development corpus): each entry has the Khmer spelling and the Latin spellings people
actually type, most common first. Compound given names (Srey + X, Sok + X, ...) are built
from prefix and second-syllable tables so that joined and split spellings both occur.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GivenName:
    khmer: str
    latin: tuple[str, ...]
    sex: str  # "f", "m" or "u" (either)


@dataclass(frozen=True, slots=True)
class FamilyName:
    khmer: str
    latin: tuple[str, ...]


# khmer|sex|latin spellings (comma separated, most common first)
_GIVEN = """
ស្រីពៅ|f|Sreypov,Srey Pov,Sreypeou
បុប្ផា|f|Bopha,Bupha,Bophea
សុភា|f|Sophea,Sopheap,Sophia
សុភាព|u|Sopheap,Sopheab,Sophiep
សុខា|u|Sokha,Sok Ha,Sokhaa
សុខុម|u|Sokhom,Sokhum,Sokom
សុគន្ធា|f|Sokunthea,Sokonthea,Sokuntea
សុជាតា|f|Socheata,Sochiata,Sochata
សុជាតិ|m|Socheat,Sochiat,Sochet
សុធារី|f|Sotheary,Sothary,Sotheari
សុធា|u|Sothea,Sothia,Sotha
សុភី|f|Sophy,Sophi,Sophey
សុវណ្ណ|m|Sovann,Sovan,Sovanh
សុវណ្ណារី|f|Sovannary,Sovanary,Sovannari
សុម៉ាលី|f|Somaly,Somali,Somalay
សុផល|m|Sophal,Sophol,Sopal
សុភ័ក្ត្រ|m|Sopheak,Sophak,Sopheaktra
សុខណា|f|Sokna,Soknar
សុខលាភ|u|Sokleap,Sok Leap,Sokliep
ដាលីន|f|Dalin,Dalyn,Daline
ដាវី|f|Davy,Davi,Davey
ដានី|f|Dany,Dani,Daney
ធីតា|f|Thida,Tida,Theda
ធារី|f|Theary,Thary,Thearey
ចរិយា|f|Chariya,Chareya,Charya
កញ្ញា|f|Kagna,Kanha,Kanhha
គន្ធា|f|Kunthea,Kanthea,Konthea
ណារី|f|Nary,Narry,Nari
នីតា|f|Nita,Nitta
ផល្លា|f|Phalla,Palla,Phala
ពិសី|f|Pisey,Pisei,Pisay
មាលា|f|Mealea,Meala,Mala
មុន្នី|u|Mony,Monny,Monni
រតនា|u|Rathana,Ratana,Rattana
រស្មី|f|Raksmey,Reaksmey,Rasmey
រចនា|f|Rachana,Reachana,Rachna
លក្ខិណា|f|Leakhena,Lakhena,Leakena
វណ្ណា|u|Vanna,Vana,Wanna
វាសនា|u|Veasna,Vasna,Veasana
សំណាង|u|Samnang,Somnang,Samnange
ចិន្តា|f|Chenda,Chinda,Chendaa
បញ្ញា|u|Panha,Panhha,Banha
លីដា|f|Lida,Leeda,Lyda
វិច្ឆិកា|f|Vichika,Vicheka,Vichheka
ណាវី|f|Navy,Navi,Navey
ម៉ូលីកា|f|Molika,Mollika,Moleka
ម៉ានិច|f|Manich,Manith,Maneach
លីណា|f|Lina,Leena,Lyna
ចន្ទ្រា|f|Chantrea,Chantria,Chanthrea
ពុទ្ធារី|f|Putheary,Puthary,Pouthiary
ភ័ក្ត្រា|f|Pheaktra,Phaktra,Peaktra
មេត្តា|f|Metta,Meta,Metha
រ៉ាវី|f|Ravy,Ravi,Ravey
ស្រីល័ក្ខ|f|Sreyleak,Srey Leak,Sreyleakh
សោភា|f|Saophea,Sophea,Sopha
ចាន់ណារី|f|Channary,Chan Nary,Chanary
ចាន់ធី|f|Chanthy,Chan Thy,Chanthi
ចន្ថា|u|Chantha,Chanta,Jantha
ចន្ធូ|u|Chanthou,Chanthu,Chantou
សុភ័ណ្ឌ|f|Sophan,Sophorn,Sophon
ឧស្សា|f|Ousa,Osa,Oussa
ទេវី|f|Tevy,Tevi,Tevey
ស្រីនីត|f|Sreynit,Srey Nit,Sreyneth
ម៉ារីណា|f|Marina,Mareena
ពិសិដ្ឋា|f|Pisetha,Pisitha
ធីរ៉ា|f|Thyra,Thira,Tira
កល្យាណ|f|Kalyan,Kaliyan,Kalyann
សុខឃីម|f|Sokkhim,Sok Khim,Sokim
សៀវម៉ី|f|Seavmey,Siev Mey,Seavmei
នារី|f|Neary,Nearey,Neari
ម៉ាលីស|f|Malis,Malish,Mealis
ចន្ទនី|f|Chanthny,Chantny
ណៃសៀ|f|Naisia,Nai Sea
វិមាន|f|Vimean,Vimian
ស្រីខួច|f|Sreykhuoch,Srey Khuoch
ប៊ុនធីតា|f|Bunthida,Bun Thida
ដារ៉ា|m|Dara,Darra,Daraa
វិចិត្រ|m|Vichet,Vicheth,Vichetr
វិបុល|m|Vibol,Vibal,Vebol
វឌ្ឍនា|u|Vathana,Vatana,Vathanak
វុទ្ធី|m|Vuthy,Vuthi,Vutthy
សម្បត្តិ|m|Sambath,Sampath,Sombath
សារ៉ាត់|m|Sarath,Sarat,Sarath
សារឿន|m|Saroeun,Sareoun,Saroeurn
ពិសិដ្ឋ|m|Piseth,Pisith,Piset
ពុទ្ធី|m|Puthy,Putthy,Pouthy
ភក្តី|m|Pheakdey,Pheakdei,Phakdey
ផាន់ណា|m|Phanna,Panna,Phana
ផាណិត|m|Phanith,Phanit,Panith
បូរ៉ា|m|Bora,Borah,Borra
បុរី|m|Borey,Borei,Bory
ប៊ុនធឿន|m|Bunthoeun,Bun Thoeun,Bunthoeurn
ប៊ុនហេង|m|Bunheng,Bun Heng,Bunhieng
ប៊ុនណា|m|Bunna,Buna,Bounna
មករា|u|Makara,Makra,Makkara
រិទ្ធី|m|Rithy,Rithi,Ritthy
រដ្ឋា|m|Ratha,Rotha,Rathaa
រតនៈ|m|Rathanak,Ratanak,Rattanak
វណ្ណៈ|m|Vannak,Vanak,Vannakh
វីរៈ|m|Virak,Vireak,Vireakh
វិសាល|m|Visal,Visaal,Vesal
វិជ្ជា|m|Vichea,Vichhea,Vicheat
ស៊ីថា|m|Sitha,Setha,Seitha
សីហា|m|Seyha,Sayha,Seiha
សេរី|m|Serey,Serei,Sereay
សេរីវុធ|m|Sereyvuth,Serey Vuth,Sereyvut
ឧត្តម|m|Oudom,Udom,Odom
ចំរើន|m|Chamroeun,Chamreun,Chamroen
ចាន់ធឿន|m|Chanthoeun,Chan Thoeun,Chanthoeurn
ឆៃ|m|Chhay,Chay,Chhai
ជ័យ|m|Chey,Chhey,Chai
ឆៃយ៉ា|u|Chhaya,Chaya,Chhayya
ចិត្រា|m|Chetra,Chettra,Chetrah
តុលា|m|Tola,Tolla,Tula
ធារ៉ា|m|Theara,Thearah,Theara
ណារិទ្ធ|m|Narith,Nareth,Narit
មនោ|m|Manou,Mano,Monou
កុសល|m|Kosal,Kosol,Kusal
ណារ៉ុង|m|Narong,Narung,Naroung
ប៊ុនថន|m|Bunthon,Bun Thon,Bunthorn
ពន្លឺ|m|Ponleu,Ponlue,Punleu
ពន្លក|m|Ponlok,Ponlork,Punlok
រក្សា|u|Reaksa,Raksa,Reaksaa
ភិរុណ|m|Phirun,Pirun,Phiroun
មុន្នីរ័ត្ន|m|Monyrath,Mony Rath,Monirath
វិទូ|m|Vitou,Vithou,Vitu
ពេជ្រ|m|Pich,Pech,Bich
សុខហេង|m|Sokheng,Sok Heng,Sokhieng
ស៊ីណាត|m|Sinat,Sinath,Senat
វាសនៈ|m|Veasnak,Vasnak
សុខុន|m|Sokhon,Sokhorn,Sokun
ហុងលី|m|Hongly,Hong Ly,Hongli
គឹមហុង|m|Kimhong,Kim Hong,Kimhung
ម៉េងហួរ|m|Menghour,Meng Hour,Menghuor
លីហេង|m|Lyheng,Ly Heng,Liheng
ស្រេង|m|Sreng,Srieng
សៅរ៉ា|m|Saora,Sora,Sorra
ប៉ូលីន|m|Polin,Pauline,Pollin
ចាន់ដារ៉ា|m|Chandara,Chan Dara,Chandarra
ពិសាច|m|Pisach,Pisaj
ធីរៈ|m|Thyrak,Thirak,Tirak
សំអាត|m|Samart,Sam Art,Samat
នរៈ|m|Norak,Noreak,Nourak
យុទ្ធ|m|Yuth,Yut,Youth
វិរៈបុត្រ|m|Virakboth,Vireak Both,Virakbot
ម៉ៅ|m|Mao,Mau,Maow
ហួត|m|Huot,Hout,Huth
ស៊ាង|m|Seang,Sieng,Sang
ឃីម|m|Khim,Khem,Kim
ធួន|m|Thuon,Thoun,Tuon
សាន|m|San,Sann,Saan
ប៊ុនលី|m|Bunly,Bun Ly,Bunli
សុភ័ក្ត|m|Sopheakt,Sopheak
ចន្ទរ៉ា|m|Chanra,Chan Ra,Chantra
វីរៈយុទ្ធ|m|Virakyuth,Vireak Yuth
រ័ត្ននា|f|Rathna,Ratna,Rothna
ស្រីណុច|f|Sreynoch,Srey Noch,Srei Noch
ស្រីមាស|f|Sreymeas,Srey Meas,Sreymeah
កែវមុន្នី|f|Keomony,Keo Mony,Keomoni
"""

# Compound given names: prefix + second syllable. prefix khmer|sex|latin spellings
_PREFIXES = """
ស្រី|f|Srey,Srei,Sry
សុខ|u|Sok,Sokh,Sook
ចាន់|u|Chan,Chann,Jan
គឹម|u|Kim,Kym,Kem
"""

# second syllables: khmer|latin spellings
_SECONDS = """
មុំ|Mom,Mum
នាង|Neang,Niang
លីន|Lin,Linn
នី|Ny,Ni
ណា|Na,Nar
ធី|Thy,Thi
លី|Ly,Li
ហេង|Heng,Hieng
ដា|Da,Daa
រ៉ា|Ra,Rah
លាង|Leang,Liang
ស|Sor,Sar
ម៉ី|Mey,Mei
ពិសី|Pisey,Pisei
ឡែន|Laen,Len
រ័ត្ន|Roth,Rath
ណុប|Nob,Nop
យ៉ាន|Yan,Yann
"""

# khmer|latin spellings
_FAMILY = """
សុខ|Sok,Sokh,Sook
ចាន់|Chan,Chann,Jan
គង់|Kong,Kung,Korng
ហេង|Heng,Hieng,Hing
លី|Ly,Lee,Li
លឹម|Lim,Lym,Lem
ញឹម|Nhim,Nhem,Nyim
សេង|Seng,Sieng,Sang
ស៊ុន|Sun,Soun,Son
ស្រ៊ុន|Srun,Sron,Sroun
មាស|Meas,Mas,Meah
ពេជ្រ|Pich,Pech,Bich
ទេព|Tep,Teb,Tip
កែវ|Keo,Kaev,Keov
ខៀវ|Khiev,Khieu,Kheav
ឈិម|Chhim,Chim,Chhem
ជា|Chea,Chia,Cha
ហ៊ុន|Hun,Hoon,Houn
ហុក|Hok,Hork,Hoc
អ៊ុំ|Um,Oum,Orm
អ៊ុក|Ouk,Uk,Ok
អ៊ូច|Ouch,Uch,Och
អ៊ុង|Ung,Oung,Ong
យឹម|Yem,Yim,Yoem
យស|Yos,Yous,Yors
ឡុង|Long,Lung,Loung
ឡាយ|Lay,Lai,Laay
វង្ស|Vong,Vung,Wong
សំ|Sam,Som,Samm
សាន|San,Sann,Saan
សយ|Soy,Soay,Soi
សួន|Suon,Soun,Suan
នួន|Nuon,Noun,Nuan
ប៊ុន|Bun,Boun,Bunn
ប៉ែន|Pen,Paen,Penn
ប្រាក់|Prak,Brak,Prack
ភួង|Phoung,Phuong,Poung
ម៉ៅ|Mao,Mau,Mav
យិន|Yin,Yen,Yinn
រស់|Ros,Ross,Rous
វ៉ាន់|Van,Vann,Wan
សុង|Song,Sung,Soung
ស៊ិន|Sin,Sen,Sinn
ហម|Hom,Horm,Hum
ហ៊ាង|Heang,Hang,Hiang
ឯក|Ek,Aek,Eak
អ៊ឹម|Im,Oem,Eum
ទូច|Touch,Toch,Tuch
ថាច់|Thach,Tach,Thac
ព្រំ|Prum,Prom,Proum
មាន|Mean,Mien,Man
រិន|Rin,Ren,Rinn
វ៉េង|Veng,Weng,Vaeng
សោម|Som,Saom,Sorm
សេន|Sen,Sain,Senn
គឹម|Kim,Kem,Kym
ឃឹម|Khim,Khem,Kheum
ឆន|Chhorn,Chhon,Chorn
ជិន|Chin,Chen,Jin
ដួង|Duong,Doung,Dong
ឈួន|Chhuon,Chuon,Chhoun
នៅ|Nov,Nou,Nau
ផន|Phon,Phorn,Pon
ពិន|Pin,Pen,Penn
ឡេង|Leng,Laeng,Lieng
ហួត|Huot,Hout,Hot
តាំង|Taing,Tang,Taeng
ង៉ែត|Nget,Ngeth,Ngaet
អៀម|Eam,Iem,Eam
ម៉ុក|Mok,Mork,Mouk
ឃុន|Khun,Khoun,Kun
យ៉ុន|Yon,Yun,Youn
ស៊ីម|Sim,Sym,Seam
លាង|Leang,Liang,Lang
ថៃ|Thai,Thay,Tai
ទិត្យ|Tith,Tit,Tuth
ស៊ាង|Seang,Sieng,Sang
មុំ|Mom,Mum,Morm
ឈាង|Chheang,Chhiang,Cheang
សឿន|Soeun,Seun,Soeurn
ធន់|Thun,Thon,Tun
"""


def _lines(table: str) -> list[list[str]]:
    return [line.split("|") for line in table.strip().splitlines() if line.strip()]


def _build_given() -> tuple[GivenName, ...]:
    names = [GivenName(km, tuple(lat.split(",")), sex) for km, sex, lat in _lines(_GIVEN)]
    seen = {n.khmer for n in names}
    for p_km, p_sex, p_lat in _lines(_PREFIXES):
        prefixes = p_lat.split(",")
        for s_km, s_lat in _lines(_SECONDS):
            km = p_km + s_km
            if km in seen:
                continue
            seen.add(km)
            seconds = s_lat.split(",")
            # Joined first (how most registers write it), then split, then a variant prefix.
            latin = (
                prefixes[0] + seconds[0].lower(),
                f"{prefixes[0]} {seconds[0]}",
                prefixes[1] + seconds[-1].lower(),
            )
            names.append(GivenName(km, latin, p_sex))
    return tuple(names)


GIVEN_NAMES: tuple[GivenName, ...] = _build_given()
FAMILY_NAMES: tuple[FamilyName, ...] = tuple(
    FamilyName(km, tuple(lat.split(","))) for km, lat in _lines(_FAMILY)
)
FEMALE_NAMES: tuple[GivenName, ...] = tuple(n for n in GIVEN_NAMES if n.sex in ("f", "u"))
MALE_NAMES: tuple[GivenName, ...] = tuple(n for n in GIVEN_NAMES if n.sex in ("m", "u"))

# Everyday spelling shifts (KHMER-ROMANISATION.md section 7), applied to a table spelling.
SPELLING_SHIFTS: tuple[tuple[str, str], ...] = (
    ("ea", "ia"),
    ("ia", "ea"),
    ("ey", "ei"),
    ("ei", "ey"),
    ("ay", "ai"),
    ("ou", "u"),
    ("uo", "ou"),
    ("oeu", "eu"),
    ("chh", "ch"),
    ("ph", "p"),
    ("th", "t"),
    ("nn", "n"),
    ("y", "i"),
    ("ao", "o"),
    ("v", "w"),
    ("k", "kh"),
)
