//! Every human-facing word of `index.html`, `report.md` and `workbook.xlsx`, in English and
//! Simplified Chinese, kept here as tables rather than scattered through the writers.
//!
//! Data files (CSV, Parquet, JSON) keep stable English identifiers (`shanghai`,
//! `settlement_rate`); only the documents people read are translated. A label missing from a
//! table falls back to a readable form of the identifier, so a user's own report still renders.
//! Chinese wording follows the usage of Chinese collection-industry and court statistics
//! (和解率, 回收率, 结案, 95% 置信区间).

use std::borrow::Cow;

use crate::queries::Query;

/// Language of the human-readable reports (`--lang`, `[run] lang`).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// The code used on the command line and in the config.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The BCP 47 tag for `<html lang>` (chooses fonts and line breaking).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// Parses a config value (`en` or `zh`).
    pub fn parse(text: &str) -> Option<Lang> {
        match text.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    fn pick<'a>(self, en: &'a str, zh: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}

/// The fixed texts of the documents.
#[derive(Debug)]
pub struct Texts {
    /// Document title.
    pub title: &'static str,
    /// "Period".
    pub period: &'static str,
    /// Period text when the release covers everything up to the as-of date.
    pub all_periods: &'static str,
    /// "As of".
    pub as_of: &'static str,
    /// "Rows read".
    pub rows_read: &'static str,
    /// "Rows accepted".
    pub rows_accepted: &'static str,
    /// "Rows rejected".
    pub rows_rejected: &'static str,
    /// Where rejected rows are listed.
    pub rejects_hint: &'static str,
    /// "Sources".
    pub sources: &'static str,
    /// Unit after a row count.
    pub rows: &'static str,
    /// "Contents".
    pub contents: &'static str,
    /// Heading of the headline block.
    pub headline: &'static str,
    /// Short name of the 95% confidence interval.
    pub interval: &'static str,
    /// "Median time to resolution".
    pub median_time: &'static str,
    /// Unit of days.
    pub days: &'static str,
    /// A median the survival curve never reaches.
    pub not_reached: &'static str,
    /// Caption of a data table.
    pub data_table: &'static str,
    /// Summary of a folded long data table.
    pub show_table: &'static str,
    /// Link text to a table's CSV file.
    pub download_csv: &'static str,
    /// Explains the marker of a suppressed or missing cell.
    pub missing_legend: &'static str,
    /// Whiskers explanation under bar charts.
    pub whiskers: &'static str,
    /// Band explanation under line and step charts.
    pub band: &'static str,
    /// Funnel explanation.
    pub funnel_share: &'static str,
    /// Heading of the definitions.
    pub definitions: &'static str,
    /// Heading of the reports that were not produced.
    pub skipped: &'static str,
    /// Footer, `{}` is the tool version.
    pub produced_by: &'static str,
    /// Name of the workbook's first sheet.
    pub summary_sheet: &'static str,
    /// Column headers of the workbook's contents table.
    pub contents_columns: [&'static str; 4],
    /// Heading of the release summary in the workbook.
    pub release_summary: &'static str,
    /// "Term" / "Definition" column headers.
    pub definition_columns: [&'static str; 2],
    /// "Notes".
    pub notes: &'static str,
    /// Shown when a chart has nothing to draw.
    pub no_data: &'static str,
    /// Between a label and its value in running text.
    pub colon: &'static str,
}

const EN: Texts = Texts {
    title: "Dispute statistics",
    period: "Period",
    all_periods: "all cases opened up to the as-of date",
    as_of: "As of",
    rows_read: "Rows read",
    rows_accepted: "Rows accepted",
    rows_rejected: "Rows rejected",
    rejects_hint: "listed with their reason in rejects.csv",
    sources: "Sources",
    rows: "rows",
    contents: "Contents",
    headline: "Headline figures",
    interval: "95% CI",
    median_time: "Median time to resolution",
    days: "days",
    not_reached: "not reached",
    data_table: "Data",
    show_table: "Show the data table",
    download_csv: "Download this table as CSV",
    missing_legend: "– not published: suppressed to protect confidentiality, or not available.",
    whiskers: "Whiskers show the 95% confidence interval.",
    band: "The shaded band is the 95% confidence interval.",
    funnel_share: "Percentages are shares of the first stage.",
    definitions: "Definitions",
    skipped: "Reports not produced",
    produced_by: "Produced by dispute-stats {}. Checksums of every file are in SHA256SUMS; inputs and parameters in manifest.json.",
    summary_sheet: "Summary",
    contents_columns: ["Sheet", "Report", "Description", "Table file"],
    release_summary: "Release",
    definition_columns: ["Term", "Definition"],
    notes: "Notes",
    no_data: "No data to chart",
    colon: ": ",
};

const ZH: Texts = Texts {
    title: "纠纷案件统计",
    period: "统计期间",
    all_periods: "截至数据截止日期立案的全部案件",
    as_of: "数据截止日期",
    rows_read: "读取记录",
    rows_accepted: "有效记录",
    rows_rejected: "剔除记录",
    rejects_hint: "剔除原因见 rejects.csv",
    sources: "数据来源",
    rows: "条",
    contents: "目录",
    headline: "主要指标",
    interval: "95% 置信区间",
    median_time: "结案用时中位数",
    days: "天",
    not_reached: "未达到",
    data_table: "数据表",
    show_table: "展开数据表",
    download_csv: "下载本表 CSV 文件",
    missing_legend: "– 不予公布：为保护信息安全而抑制，或无数据。",
    whiskers: "误差线为 95% 置信区间。",
    band: "阴影带为 95% 置信区间。",
    funnel_share: "百分比为占第一阶段案件数的比例。",
    definitions: "指标说明",
    skipped: "未生成的报表",
    produced_by: "由 dispute-stats {} 生成。各文件校验值见 SHA256SUMS，输入与参数见 manifest.json。",
    summary_sheet: "概要",
    contents_columns: ["工作表", "报表", "说明", "数据文件"],
    release_summary: "发布信息",
    definition_columns: ["指标", "说明"],
    notes: "注",
    no_data: "无可绘制的数据",
    colon: "：",
};

/// The fixed texts in a language.
pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    }
}

/// Result column → (English, Chinese) name. Interval bounds `<column>_low` / `_high` are
/// named from their base column.
#[rustfmt::skip]
const COLUMNS: &[(&str, &str, &str)] = &[
    // Dimensions.
    ("region", "Region", "地区"),
    ("debt_type", "Debt type", "债务类型"),
    ("channel", "Intake channel", "受理渠道"),
    ("stage", "Escalation stage", "催收阶段"),
    ("outcome", "Outcome", "结案方式"),
    ("age_bucket", "Debt age", "账龄"),
    ("amount_tier", "Amount tier", "委案金额区间"),
    ("opened_month", "Month opened", "立案月份"),
    ("cohort", "Cohort (month opened)", "立案月份批次"),
    ("group", "Group", "分组"),
    // Counts and amounts.
    ("cases", "Cases", "案件数"),
    ("resolved", "Resolved", "已结案数"),
    ("settled", "Settled or paid in full", "和解或全额还款数"),
    ("open", "Open", "未结案数"),
    ("reached", "Cases reaching the stage", "到达该阶段案件数"),
    ("resolved_here", "Resolved at this stage", "在该阶段结案数"),
    ("amount_claimed", "Amount claimed", "委案金额"),
    ("amount_recovered", "Amount recovered", "回收金额"),
    ("complaints", "Complaints", "投诉数"),
    ("upheld", "Complaints upheld", "投诉成立数"),
    ("at_risk", "At risk", "风险集案件数"),
    ("events", "Resolved (events)", "结案数（事件）"),
    ("censored", "Open at the as-of date (censored)", "截止时未结案（删失）"),
    // Rates and statistics.
    ("settlement_rate", "Settlement rate", "和解率"),
    ("recovery_rate", "Recovery rate", "回收率"),
    ("complaint_rate", "Complaint rate", "投诉率"),
    ("upheld_rate", "Upheld rate", "投诉成立率"),
    ("resolution_rate", "Resolution rate", "结案率"),
    ("cumulative_recovery_rate", "Cumulative recovery rate", "累计回收率"),
    ("survival", "Share still open", "未结案比例"),
    ("still_open", "Share still open", "未结案比例"),
    ("median_days", "Median days to resolution", "结案用时中位数（天）"),
    ("median_reached", "Median reached", "中位数是否达到"),
    ("q1_days", "Lower quartile, days", "结案用时下四分位数（天）"),
    ("q3_days", "Upper quartile, days", "结案用时上四分位数（天）"),
    ("days", "Days since opening", "立案后天数"),
    ("time", "Days since opening", "立案后天数"),
    ("months_since_opening", "Months since opening", "立案后月数"),
    ("resolved_within_30d", "Resolved within 30 days", "30 天内结案比例"),
    ("resolved_within_90d", "Resolved within 90 days", "90 天内结案比例"),
    ("resolved_within_180d", "Resolved within 180 days", "180 天内结案比例"),
    ("resolved_within_365d", "Resolved within 365 days", "365 天内结案比例"),
    // Flow, stock and change against the previous period.
    ("opened", "Opened", "立案数"),
    ("opened_in_period", "Opened in the period", "本期立案数"),
    ("resolved_in_period", "Resolved in the period", "本期结案数"),
    ("open_at_as_of", "Open at the as-of date", "截止日未结案数"),
    ("backlog_over_180_days", "Open for over 180 days", "案龄超过 180 天的未结案数"),
    ("backlog_median_age_days", "Median age of open cases, days", "未结案案龄中位数（天）"),
    ("clearance_rate", "Clearance rate", "结收案比"),
    ("opened_previous", "Opened, previous period", "上期立案数"),
    ("resolved_previous", "Resolved, previous period", "上期已结案数"),
    ("settled_previous", "Settled or paid in full, previous period", "上期和解或全额还款数"),
    ("settlement_rate_previous", "Settlement rate, previous period", "上期和解率"),
    ("opened_change", "Change in cases opened", "立案数变化"),
    ("resolved_change", "Change in cases resolved", "已结案数变化"),
    ("settlement_rate_change", "Change in settlement rate", "和解率变化"),
    ("recovered_to_date", "Recovered to date", "累计回收金额"),
];

/// The name of a result column for people.
pub fn column(lang: Lang, name: &str) -> String {
    if let Some((_, en, zh)) = COLUMNS.iter().find(|(key, ..)| *key == name) {
        return lang.pick(en, zh).to_string();
    }
    for (suffix, en, zh) in [
        ("_ci_low", "{}, 95% CI lower bound", "{} 95% 置信区间下限"),
        ("_ci_high", "{}, 95% CI upper bound", "{} 95% 置信区间上限"),
        ("_low", "{}, 95% CI lower bound", "{} 95% 置信区间下限"),
        ("_high", "{}, 95% CI upper bound", "{} 95% 置信区间上限"),
    ] {
        if let Some(base) = name.strip_suffix(suffix)
            && COLUMNS.iter().any(|(key, ..)| *key == base)
        {
            return lang.pick(en, zh).replace("{}", &column(lang, base));
        }
    }
    humanize(name).into_owned()
}

/// Category labels: (column, key, English, Chinese). Keys are the contract's identifiers.
#[rustfmt::skip]
const CATEGORIES: &[(&str, &str, &str, &str)] = &[
    ("outcome", "settled", "Settled", "和解"),
    ("outcome", "paid_in_full", "Paid in full", "全额还款"),
    ("outcome", "partial", "Partly paid", "部分还款"),
    ("outcome", "judgment", "Judgment", "判决"),
    ("outcome", "withdrawn", "Withdrawn", "撤案"),
    ("outcome", "uncollectable", "Uncollectable", "无法回收"),
    ("outcome", "open", "Open", "未结案"),
    ("debt_type", "commercial", "Commercial", "商业欠款"),
    ("debt_type", "construction", "Construction", "工程款"),
    ("debt_type", "consumer_loan", "Consumer loan", "消费贷款"),
    ("debt_type", "private_loan", "Private loan", "民间借贷"),
    ("debt_type", "other", "Other", "其他"),
    ("channel", "hotline", "Hotline", "热线电话"),
    ("channel", "web", "Website", "网站"),
    ("channel", "association_platform", "Association platform", "协会平台"),
    ("channel", "mini_program", "Mini program", "小程序"),
    ("channel", "referral", "Referral", "转介"),
    ("channel", "other", "Other", "其他"),
    ("stage", "reminder", "Reminder", "催告提醒"),
    ("stage", "mediation", "Mediation", "调解"),
    ("stage", "lawyer_letter", "Lawyer's letter", "律师函"),
    ("stage", "field_visit", "Field visit", "上门催收"),
    ("stage", "court_enforcement", "Court enforcement", "法院强制执行"),
    ("age_bucket", "under_90", "Under 90 days", "90 天以内"),
    ("age_bucket", "90_to_180", "90–180 days", "90–180 天"),
    ("age_bucket", "180_to_365", "180–365 days", "180–365 天"),
    ("age_bucket", "over_365", "Over 365 days", "365 天以上"),
    ("amount_tier", "under_10k", "Under 10k", "1 万元以下"),
    ("amount_tier", "10k_to_50k", "10k–50k", "1 万–5 万元"),
    ("amount_tier", "50k_to_200k", "50k–200k", "5 万–20 万元"),
    ("amount_tier", "200k_to_1m", "200k–1m", "20 万–100 万元"),
    ("amount_tier", "over_1m", "Over 1m", "100 万元以上"),
    ("region", "shanghai", "Shanghai", "上海"),
    ("region", "beijing", "Beijing", "北京"),
    ("region", "tianjin", "Tianjin", "天津"),
    ("region", "chongqing", "Chongqing", "重庆"),
    ("region", "hangzhou", "Hangzhou", "杭州"),
    ("region", "ningbo", "Ningbo", "宁波"),
    ("region", "wenzhou", "Wenzhou", "温州"),
    ("region", "jiaxing", "Jiaxing", "嘉兴"),
    ("region", "shaoxing", "Shaoxing", "绍兴"),
    ("region", "nanjing", "Nanjing", "南京"),
    ("region", "suzhou", "Suzhou", "苏州"),
    ("region", "wuxi", "Wuxi", "无锡"),
    ("region", "changzhou", "Changzhou", "常州"),
    ("region", "nantong", "Nantong", "南通"),
    ("region", "kunshan", "Kunshan", "昆山"),
    ("region", "taicang", "Taicang", "太仓"),
    ("region", "hefei", "Hefei", "合肥"),
    ("region", "guangzhou", "Guangzhou", "广州"),
    ("region", "shenzhen", "Shenzhen", "深圳"),
    ("region", "dongguan", "Dongguan", "东莞"),
    ("region", "foshan", "Foshan", "佛山"),
    ("region", "chengdu", "Chengdu", "成都"),
    ("region", "wuhan", "Wuhan", "武汉"),
    ("region", "xian", "Xi'an", "西安"),
    ("region", "jiangsu", "Jiangsu", "江苏省"),
    ("region", "zhejiang", "Zhejiang", "浙江省"),
    ("region", "anhui", "Anhui", "安徽省"),
    ("region", "guangdong", "Guangdong", "广东省"),
    ("region", "shandong", "Shandong", "山东省"),
    ("region", "fujian", "Fujian", "福建省"),
    ("region", "other", "Other", "其他"),
    ("*", "all", "All cases", "全部案件"),
    ("*", "true", "Yes", "是"),
    ("*", "false", "No", "否"),
];

/// The label of a category value for people. Looks in the column's own table first, then in
/// every table (a Kaplan–Meier `group` column holds region or channel keys).
pub fn category<'a>(lang: Lang, column: &str, key: &'a str) -> Cow<'a, str> {
    let found = CATEGORIES
        .iter()
        .find(|(c, k, ..)| *c == column && *k == key)
        .or_else(|| CATEGORIES.iter().find(|(_, k, ..)| *k == key));
    match found {
        Some((_, _, en, zh)) => Cow::Owned(lang.pick(en, zh).to_string()),
        None => humanize(key),
    }
}

/// `some_key` → `Some key`; anything that is not an identifier is left as it is.
fn humanize(key: &str) -> Cow<'_, str> {
    if !crate::queries::valid_name(key) {
        return Cow::Borrowed(key);
    }
    let spaced = key.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => Cow::Owned(first.to_uppercase().chain(chars).collect()),
        None => Cow::Borrowed(key),
    }
}

/// A report's title in a language (the English title when no translation is given).
pub fn title(lang: Lang, query: &Query) -> &str {
    match (lang, &query.title_zh) {
        (Lang::Zh, Some(title)) => title,
        _ => &query.title,
    }
}

/// A report's description in a language.
pub fn description(lang: Lang, query: &Query) -> &str {
    match (lang, &query.description_zh) {
        (Lang::Zh, Some(text)) => text,
        _ => &query.description,
    }
}

/// The title of a chart: "Settlement rate by region" / "和解率（按地区）".
pub fn chart_title(lang: Lang, value: &str, by: &str) -> String {
    match lang {
        Lang::En => format!(
            "{} by {}",
            column(lang, value),
            lowercase_first(&column(lang, by))
        ),
        Lang::Zh => format!("{}（按{}）", column(lang, value), column(lang, by)),
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Metric definitions shown in the page and the workbook (DESIGN §5; docs/metrics.md).
const GLOSSARY: &[(&str, &str, &str, &str)] = &[
    (
        "Resolved",
        "A case whose outcome is anything but open at the as-of date; a closure after the as-of date counts as open.",
        "已结案",
        "截至数据截止日期结果不为“未结案”的案件；截止日期之后才结案的案件按未结案计。",
    ),
    (
        "Settlement rate",
        "Cases settled or paid in full, divided by resolved cases.",
        "和解率",
        "和解或全额还款结案的案件数除以已结案案件数。",
    ),
    (
        "Recovery rate",
        "Sum of the amounts recovered divided by the sum of the amounts claimed, over all cases of the row (open cases included, with what they have recovered so far). A ratio of sums, so large claims weigh more; it has no confidence interval.",
        "回收率",
        "回收金额合计除以委案金额合计，按该行全部案件计算（含未结案案件及其已回收金额）。属于金额合计之比，金额大的案件权重更大；不附置信区间。",
    ),
    (
        "Clearance rate",
        "Cases resolved in the period divided by cases opened in the period; above 100% the backlog shrinks. Different cases in numerator and denominator, so no interval.",
        "结收案比",
        "统计期间内结案数除以同期立案数；超过 100% 表示积案减少。分子分母并非同一批案件，故不附置信区间。",
    ),
    (
        "95% confidence interval (Wilson)",
        "Rates come with the Wilson score interval at 95%: the range of true rates compatible with the observed counts. It stays inside 0–100% and is wide when the counts are small.",
        "95% 置信区间（Wilson 法）",
        "比率均附 95% Wilson 得分置信区间，即与观测计数相容的真实比率范围；区间始终位于 0–100% 之间，样本量小时区间较宽。",
    ),
    (
        "Time to resolution (Kaplan–Meier)",
        "Days from opening to closure. Cases still open at the as-of date are censored, not dropped: the Kaplan–Meier estimator uses them up to that date. The median is the first day at which at most half of the cases are still open; “not reached” means more than half are still open. Averages over closed cases only would understate it.",
        "结案用时（Kaplan–Meier 法）",
        "自立案至结案的天数。截至数据截止日期仍未结案的案件作删失处理而非剔除，Kaplan–Meier 估计使用其截至该日的信息。中位数为未结案比例首次不超过一半的天数；“未达到”表示仍有超过一半案件未结案。仅按已结案案件求平均会低估结案用时。",
    ),
    (
        "Suppressed cell (–)",
        "A value withheld so that no case can be recognised: too few cases behind it, or a value from which a withheld one could be recomputed. The footnotes under each table say which rule applied.",
        "抑制单元格（–）",
        "为防止识别个案而不予公布的数值：其背后案件过少，或可据以推算出其他被抑制数值。各表下方注释说明所适用的规则。",
    ),
];

/// The glossary in a language: (term, definition).
pub fn glossary(lang: Lang) -> Vec<(&'static str, &'static str)> {
    GLOSSARY
        .iter()
        .map(|(en_term, en, zh_term, zh)| match lang {
            Lang::En => (*en_term, *en),
            Lang::Zh => (*zh_term, *zh),
        })
        .collect()
}

/// Footnotes and reasons written in English by other stages, with their Chinese form; `{}`
/// stands for any text, carried over in order.
const NOTES: &[(&str, &str)] = &[
    ("the source has no `{}` column", "数据源缺少 `{}` 列"),
    (
        "it compares periods; run with `--period`",
        "本报表比较前后两个期间，请以 `--period` 指定统计期间运行",
    ),
    (
        "cells with fewer than {} cases are suppressed",
        "案件数少于 {} 的单元格不予公布",
    ),
    (
        "{} cell(s) suppressed so that suppressed cells cannot be recomputed from totals",
        "另有 {} 个单元格不予公布，以防由合计值推算出被抑制的数值",
    ),
    ("counts are rounded to base {}", "计数已按 {} 的倍数取整"),
];

/// A footnote in a language: translated when it matches a known template, else as written.
pub fn note(lang: Lang, text: &str) -> String {
    if lang == Lang::En {
        return text.to_string();
    }
    for (en, zh) in NOTES {
        if let Some(holes) = match_template(en, text) {
            let mut out = String::new();
            let mut holes = holes.into_iter();
            let mut pieces = zh.split("{}").peekable();
            while let Some(piece) = pieces.next() {
                out.push_str(piece);
                if pieces.peek().is_some() {
                    out.push_str(holes.next().unwrap_or_default());
                }
            }
            return out;
        }
    }
    text.to_string()
}

/// Matches `text` against a template with `{}` holes; returns what each hole covered.
fn match_template<'a>(template: &str, text: &'a str) -> Option<Vec<&'a str>> {
    let pieces: Vec<&str> = template.split("{}").collect();
    let mut rest = text.strip_prefix(pieces[0])?;
    let mut holes = Vec::new();
    for (index, piece) in pieces.iter().enumerate().skip(1) {
        let last = index == pieces.len() - 1;
        let at = if last {
            let at = rest.len().checked_sub(piece.len())?;
            if !rest.is_char_boundary(at) || &rest[at..] != *piece {
                return None;
            }
            at
        } else if piece.is_empty() {
            return None;
        } else {
            rest.find(piece)?
        };
        holes.push(&rest[..at]);
        rest = &rest[at + piece.len()..];
    }
    (pieces.len() > 1 || rest.is_empty()).then_some(holes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_bounds() {
        assert_eq!(column(Lang::Zh, "settlement_rate"), "和解率");
        assert_eq!(column(Lang::Zh, "recovery_rate"), "回收率");
        assert_eq!(
            column(Lang::En, "settlement_rate_low"),
            "Settlement rate, 95% CI lower bound"
        );
        assert_eq!(
            column(Lang::Zh, "complaint_rate_high"),
            "投诉率 95% 置信区间上限"
        );
        assert_eq!(column(Lang::En, "median_amount"), "Median amount");
        assert_eq!(column(Lang::Zh, "odd_low"), "Odd low");
    }

    #[test]
    fn categories() {
        assert_eq!(category(Lang::Zh, "region", "shanghai"), "上海");
        assert_eq!(category(Lang::Zh, "stage", "field_visit"), "上门催收");
        assert_eq!(
            category(Lang::Zh, "stage", "court_enforcement"),
            "法院强制执行"
        );
        assert_eq!(category(Lang::Zh, "stage", "lawyer_letter"), "律师函");
        assert_eq!(category(Lang::Zh, "group", "hangzhou"), "杭州");
        assert_eq!(
            category(Lang::En, "channel", "mini_program"),
            "Mini program"
        );
        assert_eq!(category(Lang::En, "region", "lhasa"), "Lhasa");
        assert_eq!(category(Lang::En, "opened_month", "2024-03"), "2024-03");
        assert_eq!(category(Lang::Zh, "region", "<b>x</b>"), "<b>x</b>");
    }

    #[test]
    fn every_contract_category_has_both_labels() {
        use crate::contract::{CHANNELS, DEBT_TYPES, OUTCOMES, STAGES};
        for (column, keys) in [
            ("outcome", OUTCOMES),
            ("debt_type", DEBT_TYPES),
            ("channel", CHANNELS),
            ("stage", STAGES),
        ] {
            for key in keys {
                assert!(
                    CATEGORIES.iter().any(|(c, k, ..)| c == &column && k == key),
                    "{column}.{key} has no label"
                );
            }
        }
    }

    #[test]
    fn notes_follow_templates() {
        assert_eq!(
            note(Lang::Zh, "the source has no `region` column"),
            "数据源缺少 `region` 列"
        );
        assert_eq!(
            note(Lang::Zh, "cells with fewer than 10 cases are suppressed"),
            "案件数少于 10 的单元格不予公布"
        );
        assert_eq!(note(Lang::Zh, "something else"), "something else");
        assert_eq!(
            note(Lang::En, "the source has no `x` column"),
            "the source has no `x` column"
        );
        assert_eq!(
            match_template("a {} b {} c", "a 1 b 2 c"),
            Some(vec!["1", "2"])
        );
        assert_eq!(match_template("a {} b", "a 1 c"), None);
        assert_eq!(match_template("plain", "plain"), Some(vec![]));
        assert_eq!(match_template("plain", "plainer"), None);
    }

    #[test]
    fn builtin_reports_are_translated() {
        for query in crate::queries::load(&[], true).unwrap() {
            assert!(query.title_zh.is_some(), "{} has no title_zh", query.name);
            assert!(
                query.description_zh.is_some(),
                "{} has no description_zh",
                query.name
            );
            for column in query.classified() {
                let label = column_label(column);
                assert!(label, "{}: `{column}` has no label", query.name);
            }
        }
    }

    /// A column is labelled, itself or as the interval bound of a labelled column.
    fn column_label(name: &str) -> bool {
        let known = |n: &str| COLUMNS.iter().any(|(key, ..)| *key == n);
        known(name)
            || ["_ci_low", "_ci_high", "_low", "_high"]
                .iter()
                .any(|suffix| name.strip_suffix(suffix).is_some_and(known))
    }
}
