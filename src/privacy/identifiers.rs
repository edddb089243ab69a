//! Direct-identifier detectors for the input gate.
//!
//! Before any report runs, every cell of every source column is passed to [`detect`]; a hit
//! refuses the run. The detectors look for mainland-China mobile numbers, resident identity
//! numbers (GB 11643-1999: 18-digit with an ISO 7064 MOD 11-2 check character, 15-digit legacy
//! numbers and masked forms), e-mail addresses, payment card numbers (ISO/IEC 7812, Luhn check),
//! IBANs (ISO 13616, MOD 97-10 check) and other E.164 phone numbers written with a `+` or `00`
//! prefix. A cell may be free text and a match anywhere in it counts. Full-width ASCII forms
//! (U+FF01..U+FF5E, which include the full-width digits, '+', '@', '-' and '*') and the
//! ideographic space (U+3000) are folded to ASCII first; other characters are kept as they are.
//! A candidate must stand as its own token: it is not reported when it is glued to an ASCII
//! letter or digit (as inside a longer number or a hex digest) or when it is the integer or
//! fractional part of a decimal number. Chinese characters and punctuation are valid neighbours.
//! Only the standard library is used, and a value that cannot match is rejected by a digit count
//! without allocating.

use std::borrow::Cow;

/// A kind of direct identifier the gate looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Detector {
    /// Mainland-China mobile number: `1[3-9]` and 9 more digits, optional `+86`/`0086`/`86`.
    MainlandMobile,
    /// 18-character resident ID (GB 11643-1999) with a valid birth date and MOD 11-2 check.
    ResidentId,
    /// 15-digit legacy resident ID with a province code and a valid 19YYMMDD birth date.
    LegacyResidentId,
    /// 18-character resident ID with part of it replaced by `*`, `x` or `X` masks.
    MaskedResidentId,
    /// E-mail address: `local@domain.tld` with an alphabetic top-level domain.
    Email,
    /// Payment card number (ISO/IEC 7812): 13–19 digits that pass the Luhn check.
    BankCard,
    /// International Bank Account Number (ISO 13616) that passes the MOD 97-10 check.
    Iban,
    /// Other E.164 phone number written with a `+` or `00` international prefix.
    InternationalPhone,
}

impl Detector {
    /// Every detector, in declaration order.
    pub const ALL: [Detector; 8] = [
        Detector::MainlandMobile,
        Detector::ResidentId,
        Detector::LegacyResidentId,
        Detector::MaskedResidentId,
        Detector::Email,
        Detector::BankCard,
        Detector::Iban,
        Detector::InternationalPhone,
    ];

    /// Stable snake_case name used in messages and the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Detector::MainlandMobile => "mainland_mobile",
            Detector::ResidentId => "resident_id",
            Detector::LegacyResidentId => "legacy_resident_id",
            Detector::MaskedResidentId => "masked_resident_id",
            Detector::Email => "email",
            Detector::BankCard => "bank_card",
            Detector::Iban => "iban",
            Detector::InternationalPhone => "international_phone",
        }
    }

    /// Whether a value could match at all, from its [`Census`]: each detector needs a number of
    /// digits, and IBANs, masked IDs and international numbers a run of ASCII characters at
    /// least this long (15 alphanumerics; 18 digits or masks; '+' or "00" and 8 digits), so a
    /// shorter value is not scanned for them.
    fn can_match(self, census: Census) -> bool {
        let Census {
            digits,
            has_at,
            chars,
        } = census;
        match self {
            Detector::Email => has_at,
            Detector::Iban => digits >= 2 && chars >= 15,
            Detector::MaskedResidentId => digits >= 6 && chars >= 18,
            Detector::InternationalPhone => digits >= 8 && chars >= 9,
            Detector::MainlandMobile => digits >= 11,
            Detector::BankCard => digits >= 13,
            Detector::LegacyResidentId => digits >= 15,
            Detector::ResidentId => digits >= 17,
        }
    }

    /// Whether this detector fires anywhere in the folded text `b`.
    fn fires(self, b: &[u8]) -> bool {
        match self {
            Detector::MainlandMobile => has_mainland_mobile(b),
            Detector::ResidentId => has_resident_id(b),
            Detector::LegacyResidentId => has_legacy_resident_id(b),
            Detector::MaskedResidentId => has_masked_resident_id(b),
            Detector::Email => has_email(b),
            Detector::BankCard => has_bank_card(b),
            Detector::Iban => has_iban(b),
            Detector::InternationalPhone => has_international_phone(b),
        }
    }
}

/// Order in which [`detect`] tries the detectors: check-digit-confirmed and most specific first.
///
/// An 18-character ID that also passes Luhn is a resident ID; a `+86 1[3-9]…` number is a mobile,
/// not an international phone; a 15-digit run that passes both Luhn and the legacy-ID shape is
/// reported as a bank card, because the Luhn check is stronger evidence than a date pattern.
const DETECTION_ORDER: [Detector; 8] = [
    Detector::ResidentId,
    Detector::MaskedResidentId,
    Detector::Iban,
    Detector::Email,
    Detector::MainlandMobile,
    Detector::InternationalPhone,
    Detector::BankCard,
    Detector::LegacyResidentId,
];

/// The first detector that fires on this cell value, if any (a value may contain free text; matches inside text count).
pub fn detect(value: &str) -> Option<Detector> {
    let census = census(value);
    if !DETECTION_ORDER.iter().any(|d| d.can_match(census)) {
        return None;
    }
    let text = fold_width(value);
    let b = text.as_bytes();
    DETECTION_ORDER
        .into_iter()
        .find(|d| d.can_match(census) && d.fires(b))
}

/// Whether some detector could fire on a value of `chars` characters, `digits` of them digits,
/// without an '@' (the text of a number): when not, [`detect`] is `None` for it.
pub fn number_may_match(digits: usize, chars: usize) -> bool {
    let census = Census {
        digits,
        has_at: false,
        chars,
    };
    DETECTION_ORDER.iter().any(|d| d.can_match(census))
}

// ---------------------------------------------------------------------------------------------
// Pre-filter and normalisation
// ---------------------------------------------------------------------------------------------

/// What the pre-filter knows of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Census {
    /// ASCII and full-width digits.
    digits: usize,
    /// Whether an ASCII or full-width '@' is present.
    has_at: bool,
    /// Characters (after folding, one per character).
    chars: usize,
}

/// Counts digits and characters and looks for an '@', folding full-width forms.
fn census(value: &str) -> Census {
    if value.is_ascii() {
        let digits = value.bytes().filter(u8::is_ascii_digit).count();
        return Census {
            digits,
            has_at: value.contains('@'),
            chars: value.len(),
        };
    }
    value.chars().map(fold_char).fold(
        Census {
            digits: 0,
            has_at: false,
            chars: 0,
        },
        |census, c| Census {
            digits: census.digits + usize::from(c.is_ascii_digit()),
            has_at: census.has_at || c == '@',
            chars: census.chars + 1,
        },
    )
}

/// Folds full-width ASCII forms and the ideographic space to ASCII, borrowing when nothing changes.
fn fold_width(value: &str) -> Cow<'_, str> {
    if value.is_ascii() || !value.chars().any(|c| fold_char(c) != c) {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(value.chars().map(fold_char).collect())
    }
}

/// Maps U+FF01..U+FF5E to U+0021..U+007E and U+3000 to a space; other characters are unchanged.
fn fold_char(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

// ---------------------------------------------------------------------------------------------
// Shared scanning helpers
// ---------------------------------------------------------------------------------------------

/// Whether a candidate starting at byte `s` is neither glued to a word nor a decimal fraction.
fn left_clear(b: &[u8], s: usize) -> bool {
    let before = |k: usize| s.checked_sub(k).and_then(|i| b.get(i));
    match before(1) {
        Some(c) if c.is_ascii_alphanumeric() => false,
        Some(b'.') => !before(2).is_some_and(u8::is_ascii_digit),
        _ => true,
    }
}

/// Whether a candidate ending before byte `e` is neither glued to a word nor a decimal's integer part.
fn right_clear(b: &[u8], e: usize) -> bool {
    match b.get(e) {
        Some(c) if c.is_ascii_alphanumeric() => false,
        Some(b'.') => !b.get(e + 1).is_some_and(u8::is_ascii_digit),
        _ => true,
    }
}

/// Length of the run of ASCII digits starting at byte `s`.
fn run_len(b: &[u8], s: usize) -> usize {
    b.get(s..)
        .map_or(0, |t| t.iter().take_while(|c| c.is_ascii_digit()).count())
}

/// Maximal runs of ASCII digits in `b`, as half-open byte ranges.
fn digit_runs(b: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        let s = pos + b.get(pos..)?.iter().position(u8::is_ascii_digit)?;
        pos = s + run_len(b, s);
        Some((s, pos))
    })
}

/// The digit run joined to the run ending at `e` by 1..=`max_sep` bytes taken from `seps`.
fn next_group(b: &[u8], e: usize, seps: &[u8], max_sep: usize) -> Option<(usize, usize)> {
    let gap = b
        .get(e..)?
        .iter()
        .take(max_sep + 1)
        .take_while(|c| seps.contains(c))
        .count();
    if gap == 0 || gap > max_sep {
        return None;
    }
    let n = run_len(b, e + gap);
    (n > 0).then_some((e + gap, e + gap + n))
}

/// The digit groups chained from the run `first` by separators from `seps`.
fn groups<'a>(
    b: &'a [u8],
    first: (usize, usize),
    seps: &'a [u8],
    max_sep: usize,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    std::iter::successors(Some(first), move |&(_, e)| next_group(b, e, seps, max_sep))
}

/// Up to 32 ASCII digits gathered from one or more digit groups.
struct Digits {
    buf: [u8; 32],
    len: usize,
}

impl Digits {
    /// An empty buffer.
    fn new() -> Self {
        Digits {
            buf: [0; 32],
            len: 0,
        }
    }

    /// Appends `d`; returns false (and appends nothing) when the buffer would overflow.
    fn push(&mut self, d: &[u8]) -> bool {
        let end = self.len + d.len();
        match self.buf.get_mut(self.len..end) {
            Some(slot) => {
                slot.copy_from_slice(d);
                self.len = end;
                true
            }
            None => false,
        }
    }

    /// The digits gathered so far.
    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The value of an ASCII digit string, or `None` if it is empty, too long or not all digits.
fn number(d: Option<&[u8]>) -> Option<u32> {
    let d = d.filter(|d| !d.is_empty() && d.len() <= 9 && d.iter().all(u8::is_ascii_digit))?;
    Some(d.iter().fold(0, |n, &c| n * 10 + u32::from(c - b'0')))
}

/// Whether `year`-`month`-`day` is a real day of the proleptic Gregorian calendar.
fn is_real_day(year: u32, month: u32, day: u32) -> bool {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let last = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=last).contains(&day)
}

// ---------------------------------------------------------------------------------------------
// Mainland mobile
// ---------------------------------------------------------------------------------------------

/// Mainland mobile: `1[3-9]` + 9 digits, optional `+86`/`0086`/`86`, space or '-' between groups.
fn has_mainland_mobile(b: &[u8]) -> bool {
    digit_runs(b).any(|run| left_clear(b, run.0) && mobile_from(b, run))
}

/// Whether the run `first`, alone or with up to three groups chained to it, is a mobile number.
fn mobile_from(b: &[u8], first: (usize, usize)) -> bool {
    let plus = first.0 > 0 && b.get(first.0 - 1) == Some(&b'+');
    let mut lens = [0usize; 4];
    let mut digits = Digits::new();
    for (i, (s, e)) in groups(b, first, b" -", 1).take(lens.len()).enumerate() {
        lens[i] = e - s;
        if !digits.push(&b[s..e]) {
            return false;
        }
        if right_clear(b, e) && is_mobile(digits.as_slice(), &lens[..=i], plus) {
            return true;
        }
    }
    false
}

/// Whether digits `d` in groups of `lens` are a mobile number after an optional country prefix.
///
/// After a '+' only the `86` prefix is accepted; a bare `86` or `0086` prefix is also accepted.
fn is_mobile(d: &[u8], lens: &[usize], plus: bool) -> bool {
    let prefix = match (d.len(), plus) {
        (11, false) => 0,
        (13, _) if d.starts_with(b"86") => 2,
        (15, false) if d.starts_with(b"0086") => 4,
        _ => return false,
    };
    matches!(&d[prefix..], [b'1', b'3'..=b'9', ..]) && is_mobile_layout(lens, prefix)
}

/// Whether the groups, once `prefix` leading digits are dropped, read 11, 3-4-4, 3-8, 4-3-4 or 7-4.
///
/// Other splits are refused so that two unrelated numbers separated by a space, such as
/// `15000 120000`, are not read as one mobile number.
fn is_mobile_layout(lens: &[usize], prefix: usize) -> bool {
    let Some((&first, rest)) = lens.split_first() else {
        return false;
    };
    let national = match (first.checked_sub(prefix), rest) {
        (Some(0), [head, tail @ ..]) => (*head, tail),
        (Some(head), tail) => (head, tail),
        (None, _) => return false,
    };
    matches!(
        national,
        (11, []) | (3, [4, 4]) | (3, [8]) | (4, [3, 4]) | (7, [4])
    )
}

// ---------------------------------------------------------------------------------------------
// Resident identity numbers (GB 11643-1999)
// ---------------------------------------------------------------------------------------------

/// Birth years accepted in an 18-digit ID: 1850–2099 rather than 1900–2099, so that the
/// GB 11643-1999 example `440524188001010014` (born 1880) is recognised.
const ID_BIRTH_YEARS: std::ops::RangeInclusive<u32> = 1850..=2099;

/// 18-character resident ID: valid birth date and ISO 7064 MOD 11-2 check character.
fn has_resident_id(b: &[u8]) -> bool {
    digit_runs(b).any(|(s, _)| {
        left_clear(b, s)
            && read_id(b, s).is_some_and(|(id, e)| right_clear(b, e) && is_valid_id(&id))
    })
}

/// Reads 17 digits and a check character from `start`, compact or grouped 6-8-4 by ' ' or '-'.
fn read_id(b: &[u8], start: usize) -> Option<([u8; 18], usize)> {
    let sep = b.get(start + 6).filter(|c| matches!(c, b' ' | b'-'));
    let mut id = [0u8; 18];
    let mut i = start;
    for (k, slot) in id.iter_mut().enumerate() {
        if sep.is_some() && (k == 6 || k == 14) {
            if b.get(i) != sep {
                return None;
            }
            i += 1;
        }
        let c = *b.get(i)?;
        if !(c.is_ascii_digit() || (k == 17 && matches!(c, b'X' | b'x'))) {
            return None;
        }
        *slot = c.to_ascii_uppercase();
        i += 1;
    }
    Some((id, i))
}

/// Whether an 18-character ID has a real birth date (digits 7–14) and the right check character.
fn is_valid_id(id: &[u8; 18]) -> bool {
    let birth = |r: std::ops::Range<usize>| number(id.get(r));
    let date_ok = match (birth(6..10), birth(10..12), birth(12..14)) {
        (Some(y), Some(m), Some(d)) => ID_BIRTH_YEARS.contains(&y) && is_real_day(y, m, d),
        _ => false,
    };
    date_ok && mod11_2_check(&id[..17]) == id[17]
}

/// ISO 7064 MOD 11-2 check character of 17 ASCII digits, as used by GB 11643-1999.
fn mod11_2_check(body: &[u8]) -> u8 {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize]
}

/// 15-digit legacy ID: province code and a valid 19YYMMDD birth date; it has no check digit.
fn has_legacy_resident_id(b: &[u8]) -> bool {
    digit_runs(b).any(|(s, e)| {
        e - s == 15 && left_clear(b, s) && right_clear(b, e) && is_valid_legacy_id(&b[s..e])
    })
}

/// Whether 15 digits start with a province code and carry a real 19YYMMDD date at digits 7–12.
fn is_valid_legacy_id(id: &[u8]) -> bool {
    let field = |r: std::ops::Range<usize>| number(id.get(r));
    let date_ok = match (field(6..8), field(8..10), field(10..12)) {
        (Some(yy), Some(m), Some(d)) => is_real_day(1900 + yy, m, d),
        _ => false,
    };
    date_ok && is_province(id)
}

/// Whether the first two digits are a province-level code of GB/T 2260.
fn is_province(id: &[u8]) -> bool {
    matches!(
        number(id.get(..2)),
        Some(11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81 | 82)
    )
}

/// Masked ID: 18 characters, 6+ visible leading digits, a run of 4+ masks, 0–4 visible tail characters.
fn has_masked_resident_id(b: &[u8]) -> bool {
    digit_runs(b).any(|(s, e)| e - s >= 6 && left_clear(b, s) && is_masked_id_at(b, s))
}

/// Whether the 18 bytes from `s` form a masked ID followed by a token boundary.
fn is_masked_id_at(b: &[u8], s: usize) -> bool {
    let Some(token) = b.get(s..s + 18) else {
        return false;
    };
    let visible = token.iter().take_while(|c| c.is_ascii_digit()).count();
    let rest = &token[visible..];
    let masks = rest
        .iter()
        .take_while(|c| matches!(c, b'*' | b'x' | b'X'))
        .count();
    let tail = &rest[masks..];
    masks >= 4 && tail.len() <= 4 && is_id_tail(tail) && right_clear(b, s + 18)
}

/// Whether `tail` is digits, the last of which may be the check character 'X'.
fn is_id_tail(tail: &[u8]) -> bool {
    match tail.split_last() {
        None => true,
        Some((last, init)) => {
            init.iter().all(u8::is_ascii_digit)
                && (last.is_ascii_digit() || matches!(last, b'X' | b'x'))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// E-mail
// ---------------------------------------------------------------------------------------------

/// E-mail address: a local-part character before an '@' and a dotted domain after it.
fn has_email(b: &[u8]) -> bool {
    b.iter()
        .enumerate()
        .filter(|&(_, &c)| c == b'@')
        .any(|(at, _)| is_email_at(b, at))
}

/// Whether the '@' at byte `at` joins a local part and a domain name.
fn is_email_at(b: &[u8], at: usize) -> bool {
    let local_ok = at
        .checked_sub(1)
        .and_then(|i| b.get(i))
        .is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'%' | b'+' | b'-'));
    local_ok && b.get(at + 1..).is_some_and(starts_with_domain)
}

/// Whether `rest` starts with `label(.label)+`, the last label alphabetic with 2+ letters (or IDN `xn--`).
fn starts_with_domain(rest: &[u8]) -> bool {
    let len = rest
        .iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
        .count();
    let trailing_dots = rest[..len].iter().rev().take_while(|&&c| c == b'.').count();
    let domain = &rest[..len - trailing_dots];
    let Some(dot) = domain.iter().rposition(|&c| c == b'.') else {
        return false;
    };
    let (hosts, tld) = (&domain[..dot], &domain[dot + 1..]);
    let tld_ok = (tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic))
        || (tld.len() > 4 && tld.starts_with(b"xn--"));
    tld_ok && hosts.split(|&c| c == b'.').all(is_dns_label)
}

/// Whether `label` is a non-empty DNS label that neither starts nor ends with '-'.
fn is_dns_label(label: &[u8]) -> bool {
    !label.is_empty() && !label.starts_with(b"-") && !label.ends_with(b"-")
}

// ---------------------------------------------------------------------------------------------
// Payment cards (ISO/IEC 7812)
// ---------------------------------------------------------------------------------------------

/// Card number: 13–19 digits, contiguous or grouped by one consistent ' ' or '-', passing Luhn.
fn has_bank_card(b: &[u8]) -> bool {
    digit_runs(b).any(|run| left_clear(b, run.0) && card_from(b, run))
}

/// Whether the run `first`, alone or with the groups chained to it, is a card number.
fn card_from(b: &[u8], first: (usize, usize)) -> bool {
    let (s, e) = first;
    if (13..=19).contains(&(e - s)) {
        return right_clear(b, e) && is_card_number(&b[s..e]);
    }
    let sep = match b.get(e) {
        Some(&c @ (b' ' | b'-')) if e - s == 4 => c,
        _ => return false,
    };
    let mut lens = [0usize; 5];
    let mut digits = Digits::new();
    for (i, (gs, ge)) in groups(b, first, &[sep], 1).take(lens.len()).enumerate() {
        lens[i] = ge - gs;
        if !digits.push(&b[gs..ge]) {
            return false;
        }
        if is_card_layout(&lens[..=i]) && right_clear(b, ge) && is_card_number(digits.as_slice()) {
            return true;
        }
    }
    false
}

/// Whether group lengths are 4-4-…-(1..4) or the 4-6-5 / 4-6-4 layouts of 15- and 14-digit cards.
fn is_card_layout(lens: &[usize]) -> bool {
    match lens {
        [4, 6, 4 | 5] => true,
        [init @ .., last] => (1..=4).contains(last) && init.iter().all(|&l| l == 4),
        [] => false,
    }
}

/// Whether `d` has 13–19 digits, a major industry identifier 2–9 and a valid Luhn check digit.
///
/// MII 0 is reserved and MII 1 (airlines) is excluded: 13–19 digit numbers starting with 0 or 1
/// in case data are overwhelmingly zero-padded keys and epoch-millisecond timestamps.
fn is_card_number(d: &[u8]) -> bool {
    (13..=19).contains(&d.len()) && matches!(d.first(), Some(b'2'..=b'9')) && luhn_ok(d)
}

/// Luhn check (ISO/IEC 7812-1, annex B) over ASCII digits.
fn luhn_ok(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &c)| {
            let v = u32::from(c - b'0') * if i % 2 == 1 { 2 } else { 1 };
            if v > 9 { v - 9 } else { v }
        })
        .sum();
    sum.is_multiple_of(10)
}

// ---------------------------------------------------------------------------------------------
// IBAN (ISO 13616)
// ---------------------------------------------------------------------------------------------

/// IBAN: registered country code, 2 check digits, the country's BBAN length, MOD 97-10 == 1.
fn has_iban(b: &[u8]) -> bool {
    (0..b.len()).any(|i| is_iban_at(b, i))
}

/// Whether an IBAN, compact or in space-separated groups of four, starts at byte `i`.
fn is_iban_at(b: &[u8], i: usize) -> bool {
    let Some(&[c0, c1, d0, d1]) = b.get(i..i + 4) else {
        return false;
    };
    let shape = c0.is_ascii_alphabetic()
        && c1.is_ascii_alphabetic()
        && d0.is_ascii_digit()
        && d1.is_ascii_digit();
    if !shape || !left_clear(b, i) {
        return false;
    }
    let Some(len) = iban_length([c0.to_ascii_uppercase(), c1.to_ascii_uppercase()]) else {
        return false;
    };
    read_iban(b, i, len)
        .is_some_and(|(iban, e)| right_clear(b, e) && iban_remainder(&iban[..len]) == 1)
}

/// Reads `len` alphanumerics (upper-cased) from `start`, compact or as space-separated groups of four.
fn read_iban(b: &[u8], start: usize, len: usize) -> Option<([u8; 34], usize)> {
    let spaced = b.get(start + 4) == Some(&b' ');
    let mut iban = [0u8; 34];
    let mut i = start;
    for (k, slot) in iban.iter_mut().take(len).enumerate() {
        if spaced && k > 0 && k.is_multiple_of(4) {
            if b.get(i) != Some(&b' ') {
                return None;
            }
            i += 1;
        }
        let c = *b.get(i)?;
        if !c.is_ascii_alphanumeric() {
            return None;
        }
        *slot = c.to_ascii_uppercase();
        i += 1;
    }
    Some((iban, i))
}

/// ISO 7064 MOD 97-10 remainder of an upper-case IBAN after moving its first four characters to the end.
fn iban_remainder(iban: &[u8]) -> u32 {
    let (head, tail) = iban.split_at(iban.len().min(4));
    tail.iter().chain(head).fold(0, |r, &c| {
        if c.is_ascii_digit() {
            (r * 10 + u32::from(c - b'0')) % 97
        } else {
            (r * 100 + u32::from(c - b'A') + 10) % 97
        }
    })
}

/// Total IBAN length for a country code: the SWIFT IBAN registry (ISO 13616) plus the
/// countries that issue IBANs outside it; `None` for any other pair of letters.
fn iban_length(country: [u8; 2]) -> Option<usize> {
    let len = match &country {
        b"NO" => 15,
        b"BE" => 16,
        b"DK" | b"FI" | b"FK" | b"FO" | b"GL" | b"NL" | b"SD" => 18,
        b"MK" | b"SI" => 19,
        b"AT" | b"BA" | b"EE" | b"KZ" | b"LT" | b"LU" | b"MN" | b"XK" => 20,
        b"CH" | b"HR" | b"LI" | b"LV" => 21,
        b"BG" | b"BH" | b"CR" | b"DE" | b"GB" | b"GE" | b"IE" | b"ME" | b"RS" | b"VA" => 22,
        b"AE" | b"GI" | b"IL" | b"IQ" | b"OM" | b"SO" | b"TL" => 23,
        b"AD" | b"CZ" | b"ES" | b"MD" | b"PK" | b"RO" | b"SA" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"AO" | b"CV" | b"GW" | b"LY" | b"MZ" | b"PT" | b"ST" => 25,
        b"DZ" | b"IR" | b"IS" | b"TR" => 26,
        b"BI" | b"CF" | b"CG" | b"CM" | b"DJ" | b"FR" | b"GA" | b"GQ" | b"GR" | b"IT" | b"KM"
        | b"MC" | b"MG" | b"MR" | b"SM" | b"TD" => 27,
        b"AL" | b"AZ" | b"BF" | b"BJ" | b"BY" | b"CI" | b"CY" | b"DO" | b"GT" | b"HN" | b"HU"
        | b"LB" | b"MA" | b"ML" | b"NE" | b"NI" | b"PL" | b"SN" | b"SV" | b"TG" => 28,
        b"BR" | b"EG" | b"PS" | b"QA" | b"UA" => 29,
        b"JO" | b"KW" | b"MU" | b"YE" => 30,
        b"MT" | b"SC" => 31,
        b"LC" => 32,
        b"RU" => 33,
        _ => return None,
    };
    Some(len)
}

// ---------------------------------------------------------------------------------------------
// International phone numbers (E.164)
// ---------------------------------------------------------------------------------------------

/// E.164 number after `+` or `00`: country code first digit 1–9, 8–15 digits, optional separators.
fn has_international_phone(b: &[u8]) -> bool {
    digit_runs(b).any(|run| phone_from(b, run))
}

/// Whether the run `first` opens an international number, alone or with groups chained to it.
fn phone_from(b: &[u8], first: (usize, usize)) -> bool {
    let Some(skip) = international_prefix(b, first) else {
        return false;
    };
    let mut digits = Digits::new();
    for (i, (s, e)) in groups(b, first, b" -()", 2).enumerate() {
        let start = if i == 0 { s + skip } else { s };
        if !digits.push(&b[start..e]) || digits.len > 15 {
            return false;
        }
        if right_clear(b, e) && is_international_number(digits.as_slice()) {
            return true;
        }
    }
    false
}

/// Digits to skip at the start of `run`: 0 after a free-standing '+', 2 for a leading `00`.
fn international_prefix(b: &[u8], (s, e): (usize, usize)) -> Option<usize> {
    if s > 0 && b.get(s - 1) == Some(&b'+') {
        return left_clear(b, s - 1).then_some(0);
    }
    let double_zero = e - s > 2 && b.get(s..).is_some_and(|t| t.starts_with(b"00"));
    (double_zero && left_clear(b, s)).then_some(2)
}

/// Whether `d` (country code onwards) has 8–15 digits, no leading 0 and is not `86 1[3-9]…`.
fn is_international_number(d: &[u8]) -> bool {
    (8..=15).contains(&d.len())
        && !d.starts_with(b"0")
        && !matches!(d, [b'8', b'6', b'1', b'3'..=b'9', ..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_need_eight_digits_to_match() {
        // An amount's text: digits, a point, maybe a sign. With 7 digits nothing can fire, with
        // 8 an international number can.
        assert!(!number_may_match(7, 9));
        assert!(number_may_match(8, 9));
        assert_eq!(detect("-99999.99"), None);
        for digits in 0..=7 {
            for chars in digits..=digits + 2 {
                assert!(!number_may_match(digits, chars), "{digits} {chars}");
            }
        }
    }

    fn assert_all(detector: Detector, values: &[&str]) {
        for v in values {
            assert_eq!(
                detect(v),
                Some(detector),
                "expected {} in {v:?}",
                detector.name()
            );
        }
    }

    #[test]
    fn names_are_stable_and_distinct() {
        let names: Vec<_> = Detector::ALL.iter().map(|d| d.name()).collect();
        assert_eq!(
            names,
            [
                "mainland_mobile",
                "resident_id",
                "legacy_resident_id",
                "masked_resident_id",
                "email",
                "bank_card",
                "iban",
                "international_phone"
            ]
        );
        let mut order = DETECTION_ORDER.to_vec();
        order.sort();
        assert_eq!(order, Detector::ALL);
    }

    #[test]
    fn mainland_mobile_planted() {
        assert_all(
            Detector::MainlandMobile,
            &[
                "13800138000",
                "138 0013 8000",
                "138-0013-8000",
                "+86-138-0013-8000",
                "+86 13800138000",
                "+8613800138000",
                "0086 138 0013 8000",
                "8613800138000",
                "联系电话：１３８００１３８０００，请回电",
                "手机13912345678",
                "＋８６－１５９－１２３４－５６７８",
                "19912345678 is my number",
                "Call me at 139 1234 5678.",
                "电话 138 0013 8000 2 次未接",
                "1380 013 8000",
                "+86138 0013 8000",
            ],
        );
    }

    #[test]
    fn resident_id_planted() {
        assert_all(
            Detector::ResidentId,
            &[
                "11010519491231002X",
                "440524188001010014",
                "11010519491231002x",
                "身份证号：11010519491231002X。",
                "１１０１０５１９４９１２３１００２Ｘ",
                "110105 19491231 002X",
                "110105-19491231-002X",
                "ID 440524188001010014",
            ],
        );
    }

    #[test]
    fn legacy_resident_id_planted() {
        assert_all(
            Detector::LegacyResidentId,
            &[
                "110105491231002",
                "旧证号110105491231002已作废",
                "old id: １１０１０５４９１２３１００２",
            ],
        );
    }

    #[test]
    fn masked_resident_id_planted() {
        assert_all(
            Detector::MaskedResidentId,
            &[
                "110105********002X",
                "110105*********02X",
                "110105xxxxxxxx002X",
                "证件号110105＊＊＊＊＊＊＊＊002X，已核实",
                "1101051949******2X",
                "ID 110105********0021",
            ],
        );
    }

    #[test]
    fn email_planted() {
        assert_all(
            Detector::Email,
            &[
                "zhang.san@example.com",
                "联系邮箱：zhangsan＠example.com.cn，谢谢",
                "Mail a.b+c@mail.co.uk.",
                "x@y.io is the contact",
                "13800138000@qq.com",
            ],
        );
    }

    #[test]
    fn bank_card_planted() {
        assert_all(
            Detector::BankCard,
            &[
                "4111111111111111",
                "4111 1111 1111 1111",
                "4111-1111-1111-1111",
                "3782 822463 10005",
                "5500000000000004 was charged",
                "卡号：６２２２０２１２３４５６７８９０１２８",
                "６２１２　３４５６　７８９０　１２６５",
                "card 6222 0212 3456 7890 128",
                "Paid with 6200000000000005",
            ],
        );
    }

    #[test]
    fn iban_planted() {
        assert_all(
            Detector::Iban,
            &[
                "GB82 WEST 1234 5698 7654 32",
                "DE89370400440532013000",
                "转账至 DE89 3704 0044 0532 0130 00 账户",
                "NO93 8601 1117 947",
                "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
                "gb82west12345698765432",
                "Refund to GB82WEST12345698765432",
            ],
        );
    }

    #[test]
    fn international_phone_planted() {
        assert_all(
            Detector::InternationalPhone,
            &[
                "+44 20 7946 0958",
                "+1 (415) 555-2671",
                "0044 20 7946 0958",
                "+49-30-1234567",
                "＋４４ ２０ ７９４６ ０９５８",
                "+86 10 6552 9988",
                "call +12025550123",
                "(+44) 20 7946 0958 office",
            ],
        );
    }

    #[test]
    fn planted_at_start_middle_and_end_of_text() {
        let samples = [
            (Detector::MainlandMobile, "138 0013 8000"),
            (Detector::ResidentId, "11010519491231002X"),
            (Detector::LegacyResidentId, "110105491231002"),
            (Detector::MaskedResidentId, "110105********002X"),
            (Detector::Email, "li.si@example.org"),
            (Detector::BankCard, "4111 1111 1111 1111"),
            (Detector::Iban, "DE89 3704 0044 0532 0130 00"),
            (Detector::InternationalPhone, "+44 20 7946 0958"),
        ];
        for (detector, sample) in samples {
            let placed = [
                format!("{sample} 请尽快处理"),
                format!("债务人称：{sample}，已记录"),
                format!("Debtor gave {sample} on the call"),
                format!("see notes: {sample}"),
                format!("（{sample}）"),
            ];
            for v in &placed {
                assert_eq!(
                    detect(v),
                    Some(detector),
                    "expected {} in {v:?}",
                    detector.name()
                );
            }
        }
    }

    #[test]
    fn near_misses_do_not_fire() {
        let misses = [
            "",
            "N/A",
            "C000123",
            "330XX",
            "335XX",
            "12345678901",
            "2213800138000",
            "1380013800012",
            "138001380001",
            "15000 120000",
            "19491231 002",
            "13800138000.50",
            "2024-07-01",
            "2024/07/01",
            "20240701",
            "2024-07-01T12:30:00",
            "2024-07-01 12:30:00.123456",
            "12345.67",
            "1234567.89",
            "¥1,234,567.89",
            "1234567890123.45",
            "110105194912310021",
            "110105194913310021",
            "110105202302300024",
            "4111111111111112",
            "110105491331002",
            "990105491231002",
            "GB82 WEST 1234 5698 7654 33",
            "DE89370400440532013001",
            "CA2024000123456",
            "user@localhost",
            "a@b.c",
            "@example.com",
            "price@12.50",
            "+86 1380013800",
            "+12345",
            "1+1=2",
            "000123456789",
            "1719830400000",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "123e4567-e89b-12d3-a456-426614174000",
            "案件编号 C000123，金额 12345.67 元，日期 2024-07-01",
        ];
        for v in misses {
            assert_eq!(detect(v), None, "false alarm on {v:?}");
        }
    }

    #[test]
    fn detection_order_resolves_overlaps() {
        // 15 digits with a legacy-ID shape that also pass Luhn: the card check wins.
        assert_eq!(detect("440524800101005"), Some(Detector::BankCard));
        // A mobile used as the local part of an e-mail address: the address wins.
        assert_eq!(detect("13800138000@qq.com"), Some(Detector::Email));
        // Several identifiers in one value: the earliest detector in the order wins.
        assert_eq!(
            detect("tel 13800138000, id 11010519491231002X"),
            Some(Detector::ResidentId)
        );
    }

    #[test]
    fn check_characters_match_the_standard_examples() {
        assert_eq!(mod11_2_check(b"11010519491231002"), b'X');
        assert_eq!(mod11_2_check(b"44052418800101001"), b'4');
        assert!(luhn_ok(b"4111111111111111") && !luhn_ok(b"4111111111111112"));
        assert_eq!(iban_remainder(b"GB82WEST12345698765432"), 1);
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// The pre-filter only skips work: with it, `detect` finds what the detectors find in
        /// every value, here identifiers (the shortest IBAN included) in random surroundings.
        #[test]
        fn pre_filter_loses_nothing(parts in proptest::collection::vec(proptest::prop_oneof![
            proptest::sample::select(vec![
                "NO9386011117947", "DE89 3704 0044 0532 0130 00", "+44 20 7946 0958",
                "0044 20 7946 0958", "110105********002X", "11010519491231002X",
                "110105491231002", "4111 1111 1111 1111", "138 0013 8000", "li.si@example.org",
                "＋４４ ２０ ７９４６ ０９５８", "请", "C-0000-0001", "31747.59",
            ]).prop_map(str::to_string),
            "[0-9A-Z+@*xX ()-]{0,8}",
        ], 0..4)) {
            let value = parts.concat();
            let folded = fold_width(&value);
            let unfiltered = DETECTION_ORDER.into_iter().find(|d| d.fires(folded.as_bytes()));
            proptest::prop_assert_eq!(detect(&value), unfiltered, "{:?}", value);
        }
    }

    #[test]
    fn pre_filter_and_folding() {
        let of = |value| {
            let Census {
                digits,
                has_at,
                chars,
            } = census(value);
            (digits, has_at, chars)
        };
        assert_eq!(of("１２3a＠"), (3, true, 5));
        assert_eq!(of("abc"), (0, false, 3));
        assert!(matches!(fold_width("plain ascii 123"), Cow::Borrowed(_)));
        assert!(matches!(fold_width("联系我们"), Cow::Borrowed(_)));
        assert_eq!(fold_width("１３８　＋＠－"), "138 +@-");
        assert!(is_real_day(2024, 2, 29) && !is_real_day(2023, 2, 29) && !is_real_day(1900, 2, 29));
    }
}
