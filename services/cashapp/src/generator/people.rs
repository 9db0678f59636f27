//! Synthetic people and companies: Chinese names drawn from common surnames and given-name
//! characters, their pinyin as banks write it, company names with their usual variants, and
//! bank account numbers.

use pinyin::ToPinyin;

use super::rng::Rng;

/// Common surnames with rough relative frequencies (per ten thousand people).
#[rustfmt::skip]
const SURNAMES: &[(&str, u32)] = &[
    ("王", 720), ("李", 710), ("张", 680), ("刘", 540), ("陈", 460), ("杨", 320), ("黄", 230),
    ("赵", 220), ("吴", 200), ("周", 190), ("徐", 170), ("孙", 150), ("马", 150), ("朱", 140),
    ("胡", 130), ("郭", 120), ("何", 120), ("高", 110), ("林", 110), ("罗", 100), ("郑", 100),
    ("梁", 90), ("谢", 80), ("宋", 80), ("唐", 80), ("许", 70), ("韩", 70), ("冯", 70),
    ("邓", 70), ("曹", 70), ("彭", 60), ("曾", 60), ("肖", 60), ("田", 60), ("董", 50),
    ("袁", 50), ("潘", 50), ("于", 50), ("蒋", 50), ("蔡", 50), ("余", 50), ("杜", 50),
    ("叶", 50), ("程", 50), ("苏", 40), ("魏", 40), ("吕", 40), ("丁", 40), ("任", 40),
    ("沈", 40), ("姚", 40), ("卢", 40), ("姜", 40), ("崔", 30), ("钟", 30), ("谭", 30),
    ("陆", 30), ("汪", 30), ("范", 30), ("金", 30), ("石", 30), ("廖", 30), ("贾", 30),
    ("夏", 30), ("韦", 30), ("方", 30), ("白", 30), ("邹", 30), ("孟", 30), ("熊", 30),
    ("秦", 30), ("邱", 30), ("江", 30), ("尹", 30), ("薛", 20), ("段", 20), ("雷", 20),
    ("侯", 20), ("龙", 20), ("史", 20), ("陶", 20), ("黎", 20), ("贺", 20), ("顾", 20),
    ("毛", 20), ("郝", 20), ("龚", 20), ("邵", 20), ("万", 20), ("钱", 20), ("严", 20),
    ("武", 20), ("戴", 20), ("莫", 20), ("孔", 20), ("汤", 20), ("单", 5), ("解", 5),
    ("欧阳", 5), ("司马", 2), ("诸葛", 1), ("上官", 2),
];

/// Surnames whose reading differs from the character's most common one.
const SURNAME_READINGS: &[(&str, &str, &str)] = &[
    ("曾", "zeng", "zēng"),
    ("单", "shan", "shàn"),
    ("解", "xie", "xiè"),
    ("区", "ou", "ōu"),
];

/// Common given-name characters.
const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文志海波宁宇浩凯鑫晨欣怡子涵梓轩雨思佳嘉博俊峰琳婷倩颖雪慧亮斌飞晶龙云燕琴琦东健瑞睿诗梦悦阳航泽宏晓丹莉玲璐琪晗昊宸铭昕彤妍蕾薇茜语逸然一小天新春秋金成永德福荣庆祥彬";

const CITIES: &[&str] = &[
    "深圳", "广州", "上海", "北京", "杭州", "成都", "武汉", "南京", "苏州", "天津", "重庆", "西安",
];
const BRANDS: &[&str] = &[
    "华兴", "恒达", "鑫源", "宏图", "金桥", "博远", "瑞丰", "中联", "天润", "盛世", "汇通", "嘉禾",
    "锦程", "永信", "长隆", "新航", "东方", "百川", "凯旋", "卓越", "明德", "海纳", "正泰", "信达",
    "融创", "德胜", "万通", "启明", "安居", "福星",
];
const INDUSTRIES: &[&str] = &[
    "贸易",
    "科技",
    "实业",
    "建材",
    "投资",
    "物业管理",
    "电子",
    "餐饮管理",
    "装饰工程",
    "物流",
];
const SUFFIXES: &[(&str, u32)] = &[
    ("有限公司", 60),
    ("有限责任公司", 20),
    ("股份有限公司", 10),
    ("集团有限公司", 10),
];

/// A person's or company's name with what is needed to write its variants.
#[derive(Debug, Clone)]
pub(crate) struct Name {
    pub(crate) han: String,
    /// Surname characters (persons).
    pub(crate) surname: String,
    /// Company parts: city, brand + industry, suffix.
    pub(crate) company: Option<(String, String, String)>,
}

pub(crate) fn person(rng: &mut Rng) -> Name {
    let surname = rng.weighted(SURNAMES).unwrap_or("王").to_string();
    person_with_surname(rng, &surname)
}

pub(crate) fn person_with_surname(rng: &mut Rng, surname: &str) -> Name {
    let given: Vec<char> = GIVEN.chars().collect();
    let n = if rng.chance(6500) { 2 } else { 1 };
    let mut han = surname.to_string();
    for _ in 0..n {
        han.push(rng.pick(&given).copied().unwrap_or('伟'));
    }
    Name {
        han,
        surname: surname.to_string(),
        company: None,
    }
}

pub(crate) fn company(rng: &mut Rng) -> Name {
    let city = rng.pick(CITIES).copied().unwrap_or("深圳");
    let core = format!(
        "{}{}",
        rng.pick(BRANDS).copied().unwrap_or("华兴"),
        rng.pick(INDUSTRIES).copied().unwrap_or("贸易")
    );
    let suffix = rng.weighted(SUFFIXES).unwrap_or("有限公司");
    let city_part = if rng.chance(7000) {
        format!("{city}市")
    } else {
        city.to_string()
    };
    Name {
        han: format!("{city_part}{core}{suffix}"),
        surname: String::new(),
        company: Some((city_part, core, suffix.to_string())),
    }
}

/// Pinyin syllables of a person's name, toneless and toned, surname first.
fn syllables(name: &Name) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = name.han.as_str();
    if let Some((_, plain, toned)) = SURNAME_READINGS.iter().find(|(s, _, _)| *s == name.surname) {
        out.push(((*plain).to_string(), (*toned).to_string()));
        rest = rest.get(name.surname.len()..).unwrap_or_default();
    }
    for p in rest.to_pinyin().flatten() {
        out.push((p.plain().replace('ü', "v"), p.with_tone().to_string()));
    }
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// How the bank writes the customer's own name (R-P4: Chinese, pinyin with or without tones
/// and spaces, word order; company suffix variants).
pub(crate) fn variant(rng: &mut Rng, name: &Name) -> String {
    if let Some((city, core, suffix)) = &name.company {
        let other_suffix = if suffix == "有限公司" {
            "有限责任公司"
        } else {
            "有限公司"
        };
        return match rng.weighted(&[(0, 70), (1, 10), (2, 10), (3, 10)]) {
            Some(1) => format!("{city}{core}{other_suffix}"),
            Some(2) => format!("{core}{suffix}"),
            Some(3) => name.han.chars().take(10).collect(),
            _ => name.han.clone(),
        };
    }
    let sylls = syllables(name);
    let surname_len = name.surname.chars().count().min(sylls.len());
    let (sur, given) = sylls.split_at(surname_len);
    let join = |parts: &[(String, String)], toned: bool| -> String {
        parts
            .iter()
            .map(|(p, t)| if toned { t.clone() } else { p.clone() })
            .collect()
    };
    match rng.weighted(&[(0, 78), (1, 9), (2, 3), (3, 4), (4, 2), (5, 4)]) {
        Some(1) => format!("{} {}", join(sur, false), join(given, false)).to_uppercase(),
        Some(2) => format!("{}{}", join(sur, false), join(given, false)).to_uppercase(),
        Some(3) => format!(
            "{} {}",
            capitalise(&join(given, false)),
            capitalise(&join(sur, false))
        ),
        Some(4) => format!(
            "{} {}",
            capitalise(&join(sur, true)),
            capitalise(&join(given, true))
        ),
        Some(5) => sylls
            .iter()
            .map(|(p, _)| p.to_uppercase())
            .collect::<Vec<_>>()
            .join(" "),
        _ => name.han.clone(),
    }
}

/// A relative of a person (a parent with the same surname, or a spouse), who is not them.
pub(crate) fn relative(rng: &mut Rng, of: &Name) -> Name {
    loop {
        let r = if rng.chance(5000) && !of.surname.is_empty() {
            person_with_surname(rng, &of.surname)
        } else {
            person(rng)
        };
        if r.han != of.han {
            return r;
        }
    }
}

/// A mainland bank card number (19 digits), written with or without spaces.
pub(crate) fn card(rng: &mut Rng) -> String {
    let prefix = rng
        .pick(&["6222", "6228", "6217", "6214", "6226", "6230"])
        .copied()
        .unwrap_or("6222");
    format!("{prefix}{}", rng.digits(15))
}

/// A company account number (17 digits).
pub(crate) fn company_account(rng: &mut Rng) -> String {
    format!("4000{}", rng.digits(13))
}

/// A Hong Kong account (bank-branch-account).
pub(crate) fn hk_account(rng: &mut Rng) -> String {
    format!("004-{}-{}", rng.digits(3), rng.digits(6))
}

/// The same account number written in groups of four (as customers give it on forms).
pub(crate) fn spaced(account: &str) -> String {
    let chars: Vec<char> = account.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}
