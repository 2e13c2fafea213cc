//! Booleans packed 64 rows to a word: row `i` is bit `i % 64` of word `i / 64`.
//! Bits past the last row of a batch are unspecified; readers mask them.

/// Rows per word.
pub(crate) const W: usize = 64;

/// Words for `rows` rows.
pub(crate) fn words(rows: usize) -> usize {
    rows.div_ceil(W)
}

/// Whether row `i` is set.
pub(crate) fn get(bits: &[u64], i: usize) -> bool {
    (bits[i / W] >> (i % W)) & 1 == 1
}

/// The bits of a word that are rows, for the word starting at row `start` of `len` rows.
pub(crate) fn tail_mask(start: usize, len: usize) -> u64 {
    let n = (len - start).min(W);
    if n == W { u64::MAX } else { (1 << n) - 1 }
}

/// Bit `j` set where `bytes[j]` is 1 (bytes are 0/1).
fn pack64(bytes: &[u8; W]) -> u64 {
    // Eight bytes at a time: the multiplication moves byte k's low bit to
    // bit 56 + k without carries, the shift brings the eight bits down.
    const GATHER: u64 = 0x0102_0408_1020_4080;
    let mut bits = 0;
    for (k, c) in bytes.chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        bits |= (x.wrapping_mul(GATHER) >> 56) << (8 * k);
    }
    bits
}

/// `f(x)` for each `x` of `xs`, packed into `out` (appended). The test runs
/// over 64 values at a time into bytes, a loop the compiler vectorises.
#[inline(always)]
pub(crate) fn pack_each<T: Copy>(xs: &[T], out: &mut Vec<u64>, f: impl Fn(T) -> bool) {
    out.reserve(words(xs.len()));
    let mut chunks = xs.chunks_exact(W);
    let mut bytes = [0u8; W];
    for c in chunks.by_ref() {
        for (b, &x) in bytes.iter_mut().zip(c) {
            *b = u8::from(f(x));
        }
        out.push(pack64(&bytes));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        bytes = [0; W];
        for (b, &x) in bytes.iter_mut().zip(rest) {
            *b = u8::from(f(x));
        }
        out.push(pack64(&bytes));
    }
}

/// `f(i)` for rows `0..len`, packed into `out` (appended).
pub(crate) fn pack_rows(len: usize, out: &mut Vec<u64>, f: impl Fn(usize) -> bool) {
    out.reserve(words(len));
    for start in (0..len).step_by(W) {
        let end = (start + W).min(len);
        out.push((start..end).fold(0, |m, i| m | u64::from(f(i)) << (i - start)));
    }
}

/// The rows `start..end` of a batch: one household's members.
#[derive(Clone, Copy)]
pub(crate) struct Span {
    start: usize,
    end: usize,
}

impl Span {
    /// The span's rows as the low bits of a word, when it has at most 64.
    fn window(self, bits: &[u64]) -> Option<u64> {
        let n = self.end - self.start;
        if n > W {
            return None;
        }
        if n == 0 {
            return Some(0);
        }
        let k = self.start / W;
        let pair = u128::from(bits[k]) | u128::from(bits.get(k + 1).copied().unwrap_or(0)) << W;
        Some((pair >> (self.start % W)) as u64 & (u64::MAX >> (W - n)))
    }

    /// Whether exactly one row of the span is set.
    pub(crate) fn one(self, bits: &[u64]) -> bool {
        match self.window(bits) {
            Some(w) => w != 0 && w & (w - 1) == 0,
            None => count(bits, self.start, self.end) == 1,
        }
    }
}

/// `f` of each household's span, packed into `out` (appended): household
/// `h` has the rows `starts[h]..starts[h + 1]`.
pub(crate) fn pack_households(starts: &[u32], out: &mut Vec<u64>, f: impl Fn(Span) -> bool) {
    let span = |h: usize| Span { start: starts[h] as usize, end: starts[h + 1] as usize };
    pack_rows(starts.len() - 1, out, |h| f(span(h)));
}

/// Per household, whether any of its rows is set in `x`, packed into `out`
/// (appended). `inner` marks each row followed by a row of the same
/// household; `ends` holds each household's last row, or for one without
/// rows a row past `x`'s words. `f` is working memory.
///
/// One addition per word finds them all: with `n` the inner rows and `g`
/// the inner rows set, `n + g` carries from a set row up to its household's
/// last row and no further, so the carries, or `x`, mark the rows with a set
/// row at or below them in their household.
pub(crate) fn any_per_household(x: &[u64], inner: &[u64], ends: &[u32], f: &mut Vec<u64>, out: &mut Vec<u64>) {
    fill(x, inner, f);
    f.push(0);
    pack_each(ends, out, |e| get(f, e as usize));
}

/// The households of a batch as runs of rows (`starts[h]..starts[h + 1]`),
/// for the carries: `inner` marks each row followed by a row of its
/// household, `ends` holds each household's last row, or for one without
/// rows a row past `inner`'s words. Both are replaced.
pub(crate) fn runs(starts: &[u32], inner: &mut Vec<u64>, ends: &mut Vec<u32>) {
    let rows = starts.last().map_or(0, |&e| e as usize);
    inner.clear();
    inner.resize(words(rows), 0);
    ends.clear();
    let none = (words(rows) * W) as u32;
    for w in starts.windows(2) {
        let (s, e) = (w[0], w[1]);
        set_range(inner, s as usize, e.max(s + 1) as usize - 1);
        ends.push(if e > s { e - 1 } else { none });
    }
}

/// Each household's bit spread over its rows, into `out` (replaced): the
/// household's bit goes to its first row and `fill` carries it up to its last.
pub(crate) fn spread(households: &[u64], starts: &[u32], inner: &[u64], marks: &mut Vec<u64>, out: &mut Vec<u64>) {
    marks.clear();
    marks.resize(inner.len(), 0);
    let nh = starts.len() - 1;
    for (k, &w) in households.iter().enumerate() {
        let mut w = w;
        while w != 0 {
            let h = k * W + w.trailing_zeros() as usize;
            w &= w - 1;
            if h < nh && starts[h + 1] > starts[h] {
                let s = starts[h] as usize;
                marks[s / W] |= 1 << (s % W);
            }
        }
    }
    fill(marks, inner, out);
}

/// Rows with a set row at or below them in their household (`inner` as for
/// `any_per_household`), into `f` (replaced).
fn fill(x: &[u64], inner: &[u64], f: &mut Vec<u64>) {
    f.clear();
    let mut carry = 0;
    for (&x, &n) in x.iter().zip(inner) {
        let g = n & x;
        let (s, o1) = n.overflowing_add(g);
        let (s, o2) = s.overflowing_add(carry);
        carry = u64::from(o1 | o2);
        f.push(x | (s ^ n ^ g));
    }
}

/// A set of up to 64 members per row (the categories a row holds), kept as
/// one plane of bits per member: member `b` of row `r` is row `r` of plane
/// `b`. A batch reads the planes it needs as words, no row taken apart.
#[derive(Clone, Debug, Default)]
pub(crate) struct Planes {
    rows: usize,
    planes: Vec<Vec<u64>>,
}

impl Planes {
    /// Appends a row. A plane ends at its last set row; the rest are zero.
    pub(crate) fn push(&mut self, set: u64) {
        let (k, bit) = (self.rows / W, 1 << (self.rows % W));
        if set != 0 {
            self.planes.resize_with(W, Vec::new);
        }
        let mut set = set;
        while set != 0 {
            let p = &mut self.planes[set.trailing_zeros() as usize];
            set &= set - 1;
            if p.len() <= k {
                p.resize(k + 1, 0);
            }
            p[k] |= bit;
        }
        self.rows += 1;
    }

    /// Whether row `r` holds member `b`.
    pub(crate) fn has(&self, r: usize, b: usize) -> bool {
        self.planes.get(b).and_then(|p| p.get(r / W)).is_some_and(|w| (w >> (r % W)) & 1 == 1)
    }

    /// The set of row `r`.
    pub(crate) fn get(&self, r: usize) -> u64 {
        (0..self.planes.len()).fold(0, |set, b| set | u64::from(self.has(r, b)) << b)
    }

    /// Rows `start..start + len` of plane `b`, as words from bit 0, into `out` (replaced).
    pub(crate) fn window(&self, b: usize, start: usize, len: usize, out: &mut Vec<u64>) {
        out.clear();
        let n = words(len);
        let Some(p) = self.planes.get(b) else { return out.resize(n, 0) };
        let (first, shift) = (start / W, start % W);
        // The words the window touches, one more for the shift, zero past the plane's end.
        out.extend_from_slice(&p[first.min(p.len())..(first + n + 1).min(p.len())]);
        out.resize(n + 1, 0);
        if shift != 0 {
            for k in 0..n {
                out[k] = out[k] >> shift | out[k + 1] << (W - shift);
            }
        }
        out.truncate(n);
    }

    /// Every word of every plane for rows `start..end` (whole words), for the scan floor.
    pub(crate) fn words_of(&self, start: usize, end: usize) -> impl Iterator<Item = u64> + '_ {
        let (first, last) = (start / W, end.div_ceil(W));
        self.planes.iter().flat_map(move |p| p[first.min(p.len())..last.min(p.len())].iter().copied())
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.planes.iter().map(|p| p.capacity() * size_of::<u64>()).sum::<usize>()
            + self.planes.capacity() * size_of::<Vec<u64>>()
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.planes.iter_mut().for_each(Vec::shrink_to_fit);
    }
}

/// Set rows in `start..end`.
pub(crate) fn count(bits: &[u64], start: usize, end: usize) -> u32 {
    if start >= end {
        return 0;
    }
    let (first, last) = (start / W, (end - 1) / W);
    let low = u64::MAX << (start % W);
    let high = u64::MAX >> (W - 1 - (end - 1) % W);
    if first == last {
        return (bits[first] & low & high).count_ones();
    }
    let middle: u32 = bits[first + 1..last].iter().map(|w| w.count_ones()).sum();
    (bits[first] & low).count_ones() + middle + (bits[last] & high).count_ones()
}

/// Sets rows `start..end` of `bits` (which has the words).
pub(crate) fn set_range(bits: &mut [u64], start: usize, end: usize) {
    let mut i = start;
    while i < end {
        let (w, b) = (i / W, i % W);
        let n = (end - i).min(W - b);
        bits[w] |= (u64::MAX >> (W - n)) << b;
        i += n;
    }
}

/// `x` where the bit is set, `y` where not, row by row (appended to `out`).
pub(crate) fn select(bits: &[u64], x: &[i64], y: &[i64], out: &mut Vec<i64>) {
    out.reserve(x.len());
    for ((&w, x), y) in bits.iter().zip(x.chunks(W)).zip(y.chunks(W)) {
        out.extend(x.iter().zip(y).enumerate().map(|(j, (&x, &y))| {
            let take = ((w >> j) & 1).wrapping_neg() as i64;
            (x & take) | (y & !take)
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_counting_and_ranges_agree_with_a_row_by_row_reading() {
        let rows: Vec<bool> = (0..300).map(|i| (i * 7919) % 13 < 5).collect();
        let mut packed = Vec::new();
        pack_each(&rows, &mut packed, |x| x);
        let mut by_row = Vec::new();
        pack_rows(rows.len(), &mut by_row, |i| rows[i]);
        assert_eq!(packed, by_row);
        assert_eq!(packed.len(), words(300));
        for (i, &r) in rows.iter().enumerate() {
            assert_eq!(get(&packed, i), r, "row {i}");
        }
        for (s, e) in [(0, 0), (0, 300), (3, 64), (63, 65), (64, 128), (10, 250), (299, 300)] {
            let expected = rows[s..e].iter().filter(|&&x| x).count() as u32;
            assert_eq!(count(&packed, s, e), expected, "{s}..{e}");
            let mut set = vec![0u64; words(300)];
            set_range(&mut set, s, e);
            assert_eq!(count(&set, 0, 300), (e - s) as u32, "{s}..{e}");
            assert_eq!(count(&set, s, e), (e - s) as u32, "{s}..{e}");
        }
        assert_eq!(tail_mask(256, 300), (1 << 44) - 1);
        let starts = [0u32, 0, 1, 5, 63, 64, 66, 130, 200, 299, 300];
        let mut any = Vec::new();
        pack_households(&starts, &mut any, |s| count(&packed, s.start, s.end) > 0);
        let (mut inner, mut ends) = (Vec::new(), Vec::new());
        runs(&starts, &mut inner, &mut ends);
        let (mut carried, mut scratch) = (Vec::new(), Vec::new());
        any_per_household(&packed, &inner, &ends, &mut scratch, &mut carried);
        assert_eq!(carried, any, "by carries");
        let mut spread_out = Vec::new();
        spread(&packed, &starts, &inner, &mut scratch, &mut spread_out);
        for (h, w) in starts.windows(2).enumerate() {
            for i in w[0]..w[1] {
                assert_eq!(get(&spread_out, i as usize), get(&packed, h), "household {h} row {i}");
            }
        }
        let mut one = Vec::new();
        pack_households(&starts, &mut one, |s| s.one(&packed));
        for (h, w) in starts.windows(2).enumerate() {
            let n = count(&packed, w[0] as usize, w[1] as usize);
            assert_eq!(get(&any, h), n > 0, "household {h}");
            assert_eq!(get(&one, h), n == 1, "household {h}");
        }
        let (x, y): (Vec<i64>, Vec<i64>) = (0..300).map(|i| (i, -i)).unzip();
        let mut picked = Vec::new();
        select(&packed, &x, &y, &mut picked);
        assert_eq!(picked, (0..300).map(|i| if rows[i as usize] { i } else { -i }).collect::<Vec<_>>());
        assert_eq!(tail_mask(0, 300), u64::MAX);
        // Plane 63 is set in no row after the first few: it is shorter than the others.
        let sets: Vec<u64> =
            (0..300u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (i % 7) >> u64::from(i > 3)).collect();
        let mut planes = Planes::default();
        sets.iter().for_each(|&x| planes.push(x));
        for (r, &x) in sets.iter().enumerate() {
            assert_eq!(planes.get(r), x, "row {r}");
        }
        let mut window = Vec::new();
        for (start, len) in [(0, 300), (5, 64), (63, 130), (128, 1), (299, 1)] {
            for b in [0, 17, 63] {
                planes.window(b, start, len, &mut window);
                assert_eq!(window.len(), words(len));
                for i in 0..len {
                    assert_eq!(get(&window, i), (sets[start + i] >> b) & 1 == 1, "plane {b} row {}", start + i);
                }
            }
        }
    }
}
