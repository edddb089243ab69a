//! Secondary cell suppression by Gaussian elimination, after the method of Statistics Norway's
//! GaussSuppression (Ø. Langsrud, "Secondary Cell Suppression by Gaussian Elimination: An Algorithm
//! Suitable for Handling Issues of Zeros and Singletons", 2024; R packages GaussSuppression and
//! SSBtools). Every published cell is the sum of a set of inner cells (the finest
//! cross-classification of the cases), so cell `j` is a 0/1 vector `x_j` over the inner cells. A
//! suppressed cell is disclosed when `x_j` lies in the span over the rationals of the vectors of
//! the published cells, because its value is then an exact linear combination of published values;
//! this covers totals, margins and linked tables of one release alike. The module assumes the
//! intruder knows the table structure (the supports) and the published values, nothing else: it
//! gives no interval (bounds) protection and does not know cell values, see the notes on zeros and
//! singletons below.
//!
//! **Algorithm.** [`secondary_suppression`] offers the non-primary cells one by one, highest
//! `priority` value first (ties: highest index first), to a growing published set `V`. The offered
//! cell `c` is reduced against a basis of `span(V)` kept in echelon form; its residual `r_c` is
//! zero when `c` adds nothing (published), and otherwise `c` is suppressed exactly when some
//! primary cell `s` enters `span(V ∪ {c})`, i.e. when the residual `r_s` of `s`, kept reduced
//! against the same basis, is a multiple of `r_c`; else `c` is published and becomes a basis
//! vector. Invariant: no primary cell is ever in `span(V)`. Each secondary cell `c` also ends
//! outside the final span: `c` was suppressed because some primary `s` lies in `span(V_t ∪ {c})`
//! with `V_t ⊆ V_end`, so `c ∈ span(V_end)` would put `s` there. Hence the output passes
//! [`is_protected`], and every secondary cell is needed on its own: publishing it back (alone)
//! discloses a primary cell. Low-priority cells are offered last, so they are the ones suppressed
//! when a relation has to be broken.
//!
//! **Exactness.** All arithmetic is on integers: vectors are kept primitive (divided by the gcd of
//! their entries, first entry positive) and eliminations are fraction-free (`(β/g)·t − (γ/g)·b`),
//! which preserves spans over the rationals exactly, and two primitive residuals are proportional
//! iff they are equal. Arithmetic modulo a prime such as 2^61−1 was not used because it can fail in
//! the dangerous direction: if `x_s` is in the rational span of the published matrix `A` (rank `r`)
//! but not in its span modulo `p`, then `rank_p(A) < rank_p([A x_s]) ≤ rank_Q([A x_s]) = r`, so `p`
//! divides every `r×r` minor of `A`; that is impossible for `r ≤ 36` (Hadamard's bound for 0/1
//! matrices stays below 2^61−1) but cannot be ruled out for the ranks of real releases, and a
//! disclosed cell would be reported as protected. Entries are `i64` with `i128` intermediates and
//! every result is checked; if a step overflows, the candidate concerned is suppressed (the primary
//! invariant is kept exactly) and [`is_protected`] answers `false`, so overflow can cost extra
//! suppressions or a failed check but never a disclosed primary cell. Before elimination, inner
//! cells that belong to exactly the same cells are merged (partition refinement); every cell vector
//! is constant on such a class, so one coordinate per class keeps every linear relation among cells
//! in both directions, and the dimension drops to the number of distinct memberships.
//!
//! **Zeros and duplicates.** A cell with empty support (it sums no cases) is the zero vector: it is
//! always computable (it is 0), needs no protection, and is never chosen as a secondary suppression
//! since hiding it hides nothing. Callers who build supports from non-empty inner cells only model
//! an intruder who knows which inner cells are empty; that is conservative (dropping coordinates
//! maps every linear relation to one that still holds, so protection in this model implies
//! protection without that knowledge), and a primary cell is then never "protected" by zero cells,
//! the issue of zeros in Langsrud's paper. Cells with identical supports (the same total in two
//! tables) are caught by the rank test itself: once one of them is suppressed, publishing another
//! would put it in the span, so all copies end up suppressed.
//!
//! **Singletons.** The paper's singleton problem: in a frequency table a case that forms a
//! suppressed cell alone knows that cell's value, so when a primary cell is hidden only together
//! with such a cell (their sum being derivable, e.g. two suppressed cells in a row with a published
//! total), that case recovers the primary by difference. The rank test models an outside intruder
//! and this module receives no counts, so it cannot recognise singletons and does not handle them
//! by itself. The caller applies the paper's "subSum" remedy through the same API: for each
//! published cell whose suppressed inner parts include two or more singletons, append a virtual
//! cell whose support is the union of those singleton parts, mark it primary, and drop it from the
//! output; the sum is then protected as well, which forces a further suppression (test
//! `virtual_sum_cell_handles_singletons`).
//!
//! **Complexity.** With `C` cells, `Z = Σ |cells[j]|`, `m` the compressed dimension (`m ≤
//! n_inner`), `B ≤ min(C, m)` the rank of the published cells and `S` the number of protected
//! cells: compression is `O(Z + n_inner)` plus sorting each compressed support; each offered cell
//! costs one reduction against the triangular basis, `O(B·m)` at worst (the sizes of the basis
//! vectors it meets), plus `O(S)` residual comparisons, and each publication updates the protected
//! residuals that contain the new pivot, `O(S·m)`. Total worst case `O(Z + n_inner + C·(B + S)·m)`
//! time and `O(Z + n_inner + (B + S)·m)` memory; on table-structured input the vectors stay sparse
//! and far below that bound.
//!
//! Both functions panic if `primary`, `priority` or `suppressed` differ in length from `cells`.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A published cell as the sorted, de-duplicated inner-cell indices it sums.
pub type CellSupport = Vec<u32>;

/// Marks "no basis vector" in the pivot table and "no split class" in the partition.
const NONE: u32 = u32::MAX;

/// A sparse integer vector as (coordinate, value) pairs sorted by coordinate, no zero values.
type Sparse = Vec<(u32, i64)>;

/// Chooses secondary suppressions. `cells[j]` is the support of cell j; `primary[j]` marks primary suppression; `priority[j]` orders candidates: when a further cell must be suppressed, cells with lower priority value are preferred (callers pass e.g. the cell's count, so small cells go first; ties broken by index). Returns the indices of the secondary suppressions, sorted. Deterministic.
pub fn secondary_suppression<S: AsRef<[u32]>>(
    n_inner: usize,
    cells: &[S],
    primary: &[bool],
    priority: &[f64],
) -> Vec<usize> {
    assert_eq!(
        primary.len(),
        cells.len(),
        "primary must have one flag per cell"
    );
    assert_eq!(
        priority.len(),
        cells.len(),
        "priority must have one value per cell"
    );
    let compressed = compress(n_inner, cells);
    let protected = (0..cells.len()).filter(|&j| primary[j]);
    let mut engine = Engine::new(&compressed, protected);
    let mut secondary = Vec::new();
    for c in candidate_order(cells, primary, priority) {
        if engine.offer(&compressed.cells[c]) != Offer::Published {
            secondary.push(c);
        }
    }
    tracing::debug!(
        cells = cells.len(),
        dimension = compressed.dim,
        basis = engine.basis.vectors.len(),
        basis_entries = engine
            .basis
            .vectors
            .iter()
            .map(|v| v.entries.len())
            .sum::<usize>(),
        protected_entries = engine.protected.iter().map(Vec::len).sum::<usize>(),
        "secondary suppression solved"
    );
    secondary.sort_unstable();
    secondary
}

/// True when no suppressed cell lies in the span of the published cells (exact rank test), the property the release must have.
pub fn is_protected<S: AsRef<[u32]>>(n_inner: usize, cells: &[S], suppressed: &[bool]) -> bool {
    assert_eq!(
        suppressed.len(),
        cells.len(),
        "suppressed must have one flag per cell"
    );
    let compressed = compress(n_inner, cells);
    let protected = (0..cells.len()).filter(|&j| suppressed[j]);
    let mut engine = Engine::new(&compressed, protected);
    if engine.protected.is_empty() {
        return true;
    }
    (0..cells.len())
        .filter(|&j| !suppressed[j])
        .all(|j| engine.offer(&compressed.cells[j]) == Offer::Published)
}

/// Non-primary cells with non-empty support, most wanted for publication first.
fn candidate_order<S: AsRef<[u32]>>(cells: &[S], primary: &[bool], priority: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..cells.len())
        .filter(|&j| !primary[j] && !cells[j].as_ref().is_empty())
        .collect();
    order.sort_unstable_by(|&a, &b| priority[b].total_cmp(&priority[a]).then(b.cmp(&a)));
    order
}

/// Cells rewritten over classes of inner cells that no cell tells apart.
struct Compressed {
    /// Number of classes (the working dimension).
    dim: usize,
    /// Per cell, the sorted classes it covers.
    cells: Vec<Vec<u32>>,
    /// Per class, the number of cells covering it (used to pick sparse pivots).
    weight: Vec<u32>,
}

/// Merges inner cells with identical cell membership, keeping every linear relation among cells.
fn compress<S: AsRef<[u32]>>(n_inner: usize, cells: &[S]) -> Compressed {
    let supports: Vec<Cow<'_, [u32]>> = cells.iter().map(|c| normalized(c.as_ref())).collect();
    let universe = supports
        .iter()
        .filter_map(|s| s.last())
        .map(|&i| i as usize + 1)
        .fold(n_inner, usize::max);
    let mut partition = Partition::new(universe);
    for support in &supports {
        partition.refine(support);
    }
    let dim = partition.size.len();
    let mut weight = vec![0u32; dim];
    let cells: Vec<Vec<u32>> = supports.iter().map(|s| partition.classes_of(s)).collect();
    for &k in cells.iter().flatten() {
        weight[k as usize] = weight[k as usize].saturating_add(1);
    }
    Compressed { dim, cells, weight }
}

/// The support as given when strictly increasing, else a sorted de-duplicated copy.
fn normalized(support: &[u32]) -> Cow<'_, [u32]> {
    if support.windows(2).all(|w| w[0] < w[1]) {
        Cow::Borrowed(support)
    } else {
        let mut owned = support.to_vec();
        owned.sort_unstable();
        owned.dedup();
        Cow::Owned(owned)
    }
}

/// Partition of the inner cells, refined by each cell's support in turn.
struct Partition {
    class: Vec<u32>,
    size: Vec<usize>,
    hits: Vec<usize>,
    split: Vec<u32>,
    touched: Vec<u32>,
}

impl Partition {
    fn new(universe: usize) -> Self {
        Partition {
            class: vec![0; universe],
            size: vec![universe],
            hits: vec![0],
            split: vec![NONE],
            touched: Vec::new(),
        }
    }

    /// Splits every class that the support cuts into an inside and an outside part.
    fn refine(&mut self, support: &[u32]) {
        for &i in support {
            let c = self.class[i as usize] as usize;
            if self.hits[c] == 0 {
                self.touched.push(c as u32);
            }
            self.hits[c] += 1;
        }
        for &i in support {
            let c = self.class[i as usize] as usize;
            if self.hits[c] == self.size[c] {
                continue;
            }
            if self.split[c] == NONE {
                self.split[c] = self.size.len() as u32;
                self.size.push(0);
                self.hits.push(0);
                self.split.push(NONE);
            }
            self.class[i as usize] = self.split[c];
        }
        self.settle();
    }

    /// Moves the counts of the inside parts to their new classes and clears the scratch.
    fn settle(&mut self) {
        for c in std::mem::take(&mut self.touched) {
            let c = c as usize;
            let inside = self.hits[c];
            if self.split[c] != NONE {
                let d = self.split[c] as usize;
                self.size[c] -= inside;
                self.size[d] = inside;
                self.split[c] = NONE;
            }
            self.hits[c] = 0;
        }
    }

    /// The sorted classes of a support (each class lies wholly inside or outside it).
    fn classes_of(&self, support: &[u32]) -> Vec<u32> {
        let mut out: Vec<u32> = support.iter().map(|&i| self.class[i as usize]).collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// What happened to a cell offered for publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Offer {
    /// Published: no protected cell enters the span.
    Published,
    /// Refused: publishing it would put a protected cell in the span.
    Discloses,
    /// Refused: exact integer arithmetic overflowed (fail closed).
    Overflow,
}

/// A basis vector: its pivot coordinate, the value there and the primitive vector.
struct BasisVector {
    pivot: u32,
    pivot_value: i64,
    entries: Sparse,
}

/// Echelon basis of the published span: basis vector `k` is zero at the pivots of `0..k`.
struct Basis {
    vectors: Vec<BasisVector>,
    pivot_of: Vec<u32>,
}

/// The published span together with the residuals of the cells that must stay outside it.
struct Engine<'a> {
    weight: &'a [u32],
    basis: Basis,
    protected: Vec<Sparse>,
    scratch: Scratch,
}

impl<'a> Engine<'a> {
    /// An empty published set guarding the non-empty cells listed in `protected`.
    fn new(compressed: &'a Compressed, protected: impl Iterator<Item = usize>) -> Self {
        let protected = protected
            .map(|j| {
                compressed.cells[j]
                    .iter()
                    .map(|&k| (k, 1))
                    .collect::<Sparse>()
            })
            .filter(|v| !v.is_empty())
            .collect();
        Engine {
            weight: &compressed.weight,
            basis: Basis {
                vectors: Vec::new(),
                pivot_of: vec![NONE; compressed.dim],
            },
            protected,
            scratch: Scratch::new(compressed.dim),
        }
    }

    /// Publishes the cell unless that would disclose a protected cell or overflow.
    fn offer(&mut self, support: &[u32]) -> Offer {
        let Some(residual) = self.scratch.residual(&self.basis, support) else {
            return Offer::Overflow;
        };
        if residual.is_empty() {
            return Offer::Published;
        }
        if self.protected.contains(&residual) {
            return Offer::Discloses;
        }
        if self.publish(residual) {
            Offer::Published
        } else {
            Offer::Overflow
        }
    }

    /// Adds a residual to the basis and re-reduces the protected residuals; all or nothing.
    fn publish(&mut self, residual: Sparse) -> bool {
        let Some((pivot, beta)) = self.choose_pivot(&residual) else {
            return false;
        };
        let mut updates = Vec::new();
        for (idx, t) in self.protected.iter().enumerate() {
            if let Ok(pos) = t.binary_search_by_key(&pivot, |e| e.0) {
                match eliminate(t, t[pos].1, &residual, beta) {
                    Some(updated) => updates.push((idx, updated)),
                    None => return false,
                }
            }
        }
        for (idx, updated) in updates {
            self.protected[idx] = updated;
        }
        self.basis.pivot_of[pivot as usize] = self.basis.vectors.len() as u32;
        self.basis.vectors.push(BasisVector {
            pivot,
            pivot_value: beta,
            entries: residual,
        });
        self.scratch.queued.push(0);
        true
    }

    /// The pivot: a unit entry if any (no rescaling later), in the least covered class.
    fn choose_pivot(&self, residual: &Sparse) -> Option<(u32, i64)> {
        residual
            .iter()
            .min_by_key(|&&(i, v)| (v.unsigned_abs() != 1, self.weight[i as usize], i))
            .copied()
    }
}

/// Dense accumulator for reducing one vector against the basis.
struct Scratch {
    acc: Vec<i64>,
    seen: Vec<u32>,
    queued: Vec<u32>,
    touched: Vec<u32>,
    stamp: u32,
}

impl Scratch {
    fn new(dim: usize) -> Self {
        Scratch {
            acc: vec![0; dim],
            seen: vec![0; dim],
            queued: Vec::new(),
            touched: Vec::new(),
            stamp: 0,
        }
    }

    /// The primitive residual of a 0/1 vector modulo the basis, or `None` on overflow.
    fn residual(&mut self, basis: &Basis, support: &[u32]) -> Option<Sparse> {
        self.next_stamp();
        let mut heap = BinaryHeap::new();
        for &i in support {
            self.touch(i);
            self.acc[i as usize] = 1;
            self.enqueue(basis, i, &mut heap);
        }
        let mut reduced = true;
        while let Some(Reverse(k)) = heap.pop() {
            if self.subtract(basis, k as usize, &mut heap).is_none() {
                reduced = false;
                break;
            }
        }
        let entries = self.drain();
        if reduced { canonical(entries) } else { None }
    }

    /// Eliminates the pivot of basis vector `k` from the accumulator.
    fn subtract(
        &mut self,
        basis: &Basis,
        k: usize,
        heap: &mut BinaryHeap<Reverse<u32>>,
    ) -> Option<()> {
        let b = &basis.vectors[k];
        let gamma = self.acc[b.pivot as usize];
        if gamma == 0 {
            return Some(());
        }
        let (a, c) = cofactors(b.pivot_value, gamma);
        if a != 1 {
            for &i in &self.touched {
                self.acc[i as usize] = fit(i128::from(a) * i128::from(self.acc[i as usize]))?;
            }
        }
        for &(i, v) in &b.entries {
            self.touch(i);
            let value = i128::from(self.acc[i as usize]) - i128::from(c) * i128::from(v);
            self.acc[i as usize] = fit(value)?;
            if i != b.pivot {
                self.enqueue(basis, i, heap);
            }
        }
        Some(())
    }

    /// Queues the basis vector pivoting at coordinate `i`, if any, once per reduction.
    fn enqueue(&mut self, basis: &Basis, i: u32, heap: &mut BinaryHeap<Reverse<u32>>) {
        let k = basis.pivot_of[i as usize];
        if k != NONE && self.queued[k as usize] != self.stamp {
            self.queued[k as usize] = self.stamp;
            heap.push(Reverse(k));
        }
    }

    /// Records a coordinate as holding a (possibly zero) accumulator value.
    fn touch(&mut self, i: u32) {
        if self.seen[i as usize] != self.stamp {
            self.seen[i as usize] = self.stamp;
            self.touched.push(i);
        }
    }

    /// The non-zero accumulator entries, sorted, leaving the accumulator cleared.
    fn drain(&mut self) -> Sparse {
        let mut out = Vec::new();
        for i in self.touched.drain(..) {
            let value = std::mem::take(&mut self.acc[i as usize]);
            if value != 0 {
                out.push((i, value));
            }
        }
        out.sort_unstable_by_key(|e| e.0);
        out
    }

    /// Starts a new reduction; the stamps make resetting `seen` and `queued` unnecessary.
    fn next_stamp(&mut self) {
        if self.stamp == u32::MAX {
            self.seen.fill(0);
            self.queued.fill(0);
            self.stamp = 0;
        }
        self.stamp += 1;
    }
}

/// `t·(β/g) − r·(γ/g)` made primitive, where `γ = t[pivot]`, `β = r[pivot]`; `None` on overflow.
fn eliminate(t: &Sparse, gamma: i64, r: &Sparse, beta: i64) -> Option<Sparse> {
    let (a, c) = cofactors(beta, gamma);
    let mut out = Vec::with_capacity(t.len() + r.len());
    let (mut x, mut y) = (0, 0);
    while x < t.len() || y < r.len() {
        let next = |v: &Sparse, pos: usize| v.get(pos).map_or(u32::MAX, |e| e.0);
        let i = next(t, x).min(next(r, y));
        let vt = take_at(t, &mut x, i);
        let vr = take_at(r, &mut y, i);
        let value = fit(i128::from(a) * i128::from(vt) - i128::from(c) * i128::from(vr))?;
        if value != 0 {
            out.push((i, value));
        }
    }
    canonical(out)
}

/// The value at `v[*pos]` if that entry is at coordinate `i` (then advancing `pos`), else 0.
fn take_at(v: &Sparse, pos: &mut usize, i: u32) -> i64 {
    match v.get(*pos) {
        Some(&(j, value)) if j == i => {
            *pos += 1;
            value
        }
        _ => 0,
    }
}

/// `(β/g, γ/g)` with `g = ±gcd(β, γ)` signed so that the first is positive.
fn cofactors(beta: i64, gamma: i64) -> (i64, i64) {
    let g = gcd(beta.unsigned_abs(), gamma.unsigned_abs()) as i128;
    let g = if beta < 0 { -g } else { g };
    // |β/g| ≤ |β| and |γ/g| ≤ |γ|, and β/g > 0, so both quotients fit in i64.
    (
        (i128::from(beta) / g) as i64,
        (i128::from(gamma) / g) as i64,
    )
}

/// Divides by the gcd of the entries and makes the first entry positive; `None` on overflow.
fn canonical(mut entries: Sparse) -> Option<Sparse> {
    let g = entries
        .iter()
        .fold(0, |g, &(_, v)| gcd(g, v.unsigned_abs()));
    let Some(&(_, first)) = entries.first() else {
        return Some(entries);
    };
    let g = i128::from(if first < 0 { -1 } else { 1 }) * i128::from(g);
    for entry in &mut entries {
        entry.1 = fit(i128::from(entry.1) / g)?;
    }
    Some(entries)
}

/// Greatest common divisor (Euclid); `gcd(0, 0) = 0`.
fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The value as `i64`, or `None` when it does not fit.
fn fit(value: i128) -> Option<i64> {
    i64::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic splitmix64 generator.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn chance(&mut self, percent: usize) -> bool {
            self.below(100) < percent
        }
    }

    /// Cells of a group-by over `dims` (empty = grand total), in order of first appearance.
    fn group_by(inner: &[Vec<u32>], dims: &[usize]) -> Vec<CellSupport> {
        let mut keys: Vec<Vec<u32>> = Vec::new();
        let mut cells: Vec<CellSupport> = Vec::new();
        for (i, values) in inner.iter().enumerate() {
            let key: Vec<u32> = dims.iter().map(|&d| values[d]).collect();
            match keys.iter().position(|k| *k == key) {
                Some(p) => cells[p].push(i as u32),
                None => {
                    keys.push(key);
                    cells.push(vec![i as u32]);
                }
            }
        }
        cells
    }

    /// Every subset of `dims` (a table with all its margins and its total).
    fn with_margins(inner: &[Vec<u32>], dims: &[usize]) -> Vec<CellSupport> {
        let mut cells = Vec::new();
        for mask in 0..(1usize << dims.len()) {
            let sub: Vec<usize> = (0..dims.len())
                .filter(|b| mask >> b & 1 == 1)
                .map(|b| dims[b])
                .collect();
            cells.extend(group_by(inner, &sub));
        }
        cells
    }

    fn flags(n: usize, set: &[usize]) -> Vec<bool> {
        (0..n).map(|j| set.contains(&j)).collect()
    }

    fn with_secondary(primary: &[bool], secondary: &[usize]) -> Vec<bool> {
        let mut all = primary.to_vec();
        for &j in secondary {
            all[j] = true;
        }
        all
    }

    /// Reference span over the reals: dense rows in echelon form, pivots scaled to 1.
    #[derive(Clone)]
    struct DenseSpan {
        n: usize,
        rows: Vec<(usize, Vec<f64>)>,
    }

    impl DenseSpan {
        fn new(n: usize) -> Self {
            DenseSpan {
                n,
                rows: Vec::new(),
            }
        }
        fn reduce(&self, support: &CellSupport) -> Vec<f64> {
            let mut v = vec![0.0; self.n];
            for &i in support {
                v[i as usize] = 1.0;
            }
            for (p, row) in &self.rows {
                let f = v[*p];
                if f != 0.0 {
                    v.iter_mut().zip(row).for_each(|(a, b)| *a -= f * b);
                }
            }
            v
        }
        fn contains(&self, support: &CellSupport) -> bool {
            self.reduce(support).iter().all(|x| x.abs() < 1e-9)
        }
        fn add(&mut self, support: &CellSupport) {
            let mut v = self.reduce(support);
            let Some(p) = (0..self.n).max_by(|&a, &b| v[a].abs().total_cmp(&v[b].abs())) else {
                return;
            };
            if v[p].abs() < 1e-9 {
                return;
            }
            let f = v[p];
            v.iter_mut().for_each(|x| *x /= f);
            for (_, row) in &mut self.rows {
                let g = row[p];
                row.iter_mut().zip(&v).for_each(|(a, b)| *a -= g * b);
            }
            self.rows.push((p, v));
        }
    }

    /// Reference check: no suppressed non-empty cell is in the span of the published ones.
    fn brute_protected(n_inner: usize, cells: &[CellSupport], suppressed: &[bool]) -> bool {
        let mut span = DenseSpan::new(n_inner);
        (0..cells.len())
            .filter(|&j| !suppressed[j])
            .for_each(|j| span.add(&cells[j]));
        (0..cells.len())
            .filter(|&j| suppressed[j] && !cells[j].is_empty())
            .all(|s| !span.contains(&cells[s]))
    }

    /// Reference greedy with the dense span, offering candidates in the documented order.
    fn brute_greedy(
        n_inner: usize,
        cells: &[CellSupport],
        primary: &[bool],
        priority: &[f64],
    ) -> Vec<usize> {
        let mut span = DenseSpan::new(n_inner);
        let mut secondary = Vec::new();
        for c in candidate_order(cells, primary, priority) {
            let mut trial = span.clone();
            trial.add(&cells[c]);
            if (0..cells.len())
                .any(|s| primary[s] && !cells[s].is_empty() && trial.contains(&cells[s]))
            {
                secondary.push(c);
            } else {
                span = trial;
            }
        }
        secondary.sort_unstable();
        secondary
    }

    /// 2×2 table: inner cells 0..4 ((r,c) = (0,0),(0,1),(1,0),(1,1)), then r0, r1, c0, c1, total.
    fn two_by_two() -> Vec<CellSupport> {
        vec![
            vec![0],
            vec![1],
            vec![2],
            vec![3],
            vec![0, 1],
            vec![2, 3],
            vec![0, 2],
            vec![1, 3],
            vec![0, 1, 2, 3],
        ]
    }

    #[test]
    fn two_by_two_primary_needs_the_rectangle() {
        let cells = two_by_two();
        let priority = [2.0, 5.0, 7.0, 9.0, 7.0, 16.0, 9.0, 14.0, 23.0];
        let primary = flags(9, &[0]);
        let secondary = secondary_suppression(4, &cells, &primary, &priority);
        assert_eq!(secondary, vec![1, 2, 3]);
        assert!(is_protected(
            4,
            &cells,
            &with_secondary(&primary, &secondary)
        ));
    }

    #[test]
    fn is_protected_detects_disclosure() {
        let cells = two_by_two();
        assert!(!is_protected(4, &cells, &flags(9, &[0])));
        assert!(
            !is_protected(4, &cells, &flags(9, &[0, 1])),
            "column margin gives cell 0"
        );
        assert!(
            !is_protected(4, &cells, &flags(9, &[0, 1, 2])),
            "total minus the rest"
        );
        assert!(is_protected(4, &cells, &flags(9, &[0, 1, 2, 3])));
        assert!(is_protected(4, &cells, &flags(9, &[])));
    }

    #[test]
    fn one_way_table_with_total_suppresses_one_more_category() {
        // Categories A..D over inner cells 0..8 (two each), then the total.
        let cells = vec![
            vec![0, 1],
            vec![2, 3],
            vec![4, 5],
            vec![6, 7],
            (0..8).collect(),
        ];
        let priority = [3.0, 20.0, 12.0, 47.0, 82.0];
        let primary = flags(5, &[0]);
        let secondary = secondary_suppression(8, &cells, &primary, &priority);
        assert_eq!(secondary, vec![2], "the smallest other category");
        assert!(is_protected(
            8,
            &cells,
            &with_secondary(&primary, &secondary)
        ));
    }

    #[test]
    fn ties_prefer_the_lower_index_for_suppression() {
        let cells = vec![vec![0], vec![1], vec![2], vec![0, 1, 2]];
        let primary = flags(4, &[0]);
        assert_eq!(
            secondary_suppression(3, &cells, &primary, &[1.0, 5.0, 5.0, 11.0]),
            vec![1]
        );
    }

    #[test]
    fn linked_tables_share_the_grand_total() {
        // Inner cells: region (3) × channel (2); table 1 = region × channel with region margins,
        // table 2 = channel margins; both carry the grand total (a duplicate cell).
        let inner: Vec<Vec<u32>> = (0..6).map(|i| vec![i / 2, i % 2]).collect();
        let mut cells = group_by(&inner, &[0, 1]);
        cells.extend(group_by(&inner, &[0]));
        cells.extend(group_by(&inner, &[]));
        cells.extend(group_by(&inner, &[1]));
        cells.extend(group_by(&inner, &[]));
        let priority: Vec<f64> = cells.iter().map(|c| c.len() as f64 * 10.0).collect();
        let primary = flags(cells.len(), &[0]);
        let secondary = secondary_suppression(6, &cells, &primary, &priority);
        let all = with_secondary(&primary, &secondary);
        assert!(is_protected(6, &cells, &all));
        assert!(
            secondary.len() >= 3,
            "a rectangle inside the region × channel table"
        );
        assert!(
            !all[9] && !all[10] && !all[11] && !all[12],
            "totals and channel margins stay published"
        );
    }

    #[test]
    fn duplicate_cells_are_suppressed_together() {
        // A, B, total; B appears again in a second table (cell 3).
        let cells = vec![vec![0, 1], vec![2], vec![0, 1, 2], vec![2]];
        let primary = flags(4, &[0]);
        let secondary = secondary_suppression(3, &cells, &primary, &[4.0, 6.0, 10.0, 6.0]);
        assert_eq!(secondary, vec![1, 3]);
        assert!(
            !is_protected(3, &cells, &flags(4, &[0, 1])),
            "publishing the copy discloses"
        );
        // A primary cell's own duplicate must go too, whatever its priority.
        let cells = vec![vec![0], vec![1], vec![0]];
        assert_eq!(
            secondary_suppression(2, &cells, &flags(3, &[0]), &[1.0, 1.0, 99.0]),
            vec![2]
        );
    }

    #[test]
    fn zero_cells_need_no_protection_and_protect_nothing() {
        // Categories A, Z (empty), B, C and the total.
        let cells = vec![vec![0], vec![], vec![1], vec![2], vec![0, 1, 2]];
        let primary = flags(5, &[0]);
        let secondary = secondary_suppression(3, &cells, &primary, &[2.0, 0.0, 5.0, 6.0, 13.0]);
        assert_eq!(secondary, vec![2], "the empty cell cannot hide A");
        assert!(
            secondary_suppression(3, &cells, &flags(5, &[1]), &[2.0, 0.0, 5.0, 6.0, 13.0])
                .is_empty()
        );
        assert!(is_protected(3, &cells, &flags(5, &[1])));
    }

    #[test]
    fn virtual_sum_cell_handles_singletons() {
        // A and B are singleton primaries in a row with a published total: each reveals the
        // other by difference. A virtual primary cell A+B (index 5) forces a third suppression.
        let cells = vec![vec![0], vec![1], vec![2], vec![3], vec![0, 1, 2, 3]];
        let priority = [1.0, 1.0, 8.0, 9.0, 19.0];
        let primary = flags(5, &[0, 1]);
        assert!(secondary_suppression(4, &cells, &primary, &priority).is_empty());
        let mut extended = cells.clone();
        extended.push(vec![0, 1]);
        let secondary = secondary_suppression(
            4,
            &extended,
            &flags(6, &[0, 1, 5]),
            &[1.0, 1.0, 8.0, 9.0, 19.0, 2.0],
        );
        assert_eq!(secondary, vec![2]);
    }

    #[test]
    fn unsorted_supports_and_out_of_range_indices_are_tolerated() {
        let cells = vec![vec![1, 0, 1], vec![2], vec![7], vec![7, 2, 0, 1]];
        let primary = flags(4, &[1]);
        let secondary = secondary_suppression(3, &cells, &primary, &[2.0, 1.0, 3.0, 6.0]);
        assert_eq!(secondary, vec![0]);
        assert!(is_protected(
            3,
            &cells,
            &with_secondary(&primary, &secondary)
        ));
    }

    #[test]
    fn overflow_is_reported_not_wrapped() {
        let t: Sparse = vec![(0, i64::MAX), (1, 1)];
        let r: Sparse = vec![(0, 1), (1, i64::MAX)];
        assert_eq!(eliminate(&t, 1, &r, i64::MAX), None);
        assert_eq!(
            eliminate(&vec![(0, 2), (1, 4)], 2, &vec![(0, 1), (2, 3)], 1),
            Some(vec![(1, 2), (2, -3)])
        );
        assert_eq!(
            canonical(vec![(3, -4), (5, 6)]),
            Some(vec![(3, 2), (5, -3)])
        );
    }

    #[test]
    fn compression_merges_inner_cells_with_equal_membership() {
        let inner: Vec<Vec<u32>> = (0..60).map(|i| vec![i % 3, i % 4, i % 5]).collect();
        let mut cells = with_margins(&inner, &[0, 1]);
        cells.push(vec![]);
        let c = compress(61, &cells);
        assert_eq!(
            c.dim,
            12 + 1,
            "3 × 4 classes plus the class of the unused inner cell 60"
        );
        assert!(c.cells.last().is_some_and(|v| v.is_empty()));
    }

    /// A random instance: inner cells over 2–3 dimensions, 1–3 linked tables with margins.
    fn random_instance(
        rng: &mut Rng,
        max_levels: usize,
    ) -> (usize, Vec<CellSupport>, Vec<bool>, Vec<f64>) {
        let n_dims = 2 + rng.below(2);
        let levels: Vec<usize> = (0..n_dims).map(|_| 2 + rng.below(max_levels - 1)).collect();
        let total: usize = levels.iter().product();
        let mut inner: Vec<Vec<u32>> = Vec::new();
        for code in 0..total {
            if rng.chance(85) {
                let mut rest = code;
                inner.push(
                    levels
                        .iter()
                        .map(|&l| {
                            let v = rest % l;
                            rest /= l;
                            v as u32
                        })
                        .collect(),
                );
            }
        }
        let mut cells = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let dims: Vec<usize> = (0..n_dims).filter(|_| rng.chance(60)).collect();
            cells.extend(with_margins(&inner, &dims));
        }
        let percent = 5 + rng.below(25);
        let primary: Vec<bool> = cells.iter().map(|_| rng.chance(percent)).collect();
        let priority: Vec<f64> = cells
            .iter()
            .map(|c| (c.len() + rng.below(2)) as f64)
            .collect();
        (inner.len(), cells, primary, priority)
    }

    #[test]
    fn random_tables_end_protected_deterministically() {
        let mut rng = Rng(0x5EED);
        let mut with_secondaries = 0;
        for _ in 0..300 {
            let (n, cells, primary, priority) = random_instance(&mut rng, 5);
            let secondary = secondary_suppression(n, &cells, &primary, &priority);
            assert_eq!(
                secondary,
                secondary_suppression(n, &cells, &primary, &priority)
            );
            assert!(secondary.windows(2).all(|w| w[0] < w[1]));
            assert!(
                secondary
                    .iter()
                    .all(|&j| !primary[j] && !cells[j].is_empty())
            );
            let all = with_secondary(&primary, &secondary);
            assert!(is_protected(n, &cells, &all));
            for &j in &secondary {
                let mut without = all.clone();
                without[j] = false;
                assert!(
                    !is_protected(n, &cells, &without),
                    "secondary {j} is needed on its own"
                );
            }
            with_secondaries += usize::from(!secondary.is_empty());
        }
        assert!(
            with_secondaries > 100,
            "the instances exercise secondary suppression"
        );
    }

    #[test]
    fn matches_a_dense_reference_on_small_tables() {
        let mut rng = Rng(42);
        for _ in 0..150 {
            let (n, cells, primary, priority) = random_instance(&mut rng, 4);
            assert_eq!(
                secondary_suppression(n, &cells, &primary, &priority),
                brute_greedy(n, &cells, &primary, &priority)
            );
        }
    }

    #[test]
    fn is_protected_agrees_with_dense_rank_on_random_patterns() {
        let mut rng = Rng(7);
        let (mut yes, mut no) = (0, 0);
        for round in 0..400 {
            let (n, cells, _, _) = if round % 2 == 0 {
                random_instance(&mut rng, 4)
            } else {
                let n = 3 + rng.below(6);
                let cells: Vec<CellSupport> = (0..2 + rng.below(9))
                    .map(|_| (0..n as u32).filter(|_| rng.chance(40)).collect())
                    .collect();
                (n, cells, Vec::new(), Vec::new())
            };
            let percent = 10 + rng.below(70);
            let suppressed: Vec<bool> = cells.iter().map(|_| rng.chance(percent)).collect();
            let expected = brute_protected(n, &cells, &suppressed);
            assert_eq!(is_protected(n, &cells, &suppressed), expected);
            if expected { yes += 1 } else { no += 1 }
        }
        assert!(
            yes > 50 && no > 50,
            "both outcomes occur: {yes} protected, {no} not"
        );
    }

    #[test]
    #[ignore = "size check; run with --ignored on an optimised build"]
    fn large_release_is_fast_enough() {
        // 25 × 10 × 20 × 10 = 50,000 inner cells; all one- and two-way tables and the total.
        let levels = [25u32, 10, 20, 10];
        let inner: Vec<Vec<u32>> = (0..50_000u32)
            .map(|mut code| {
                levels
                    .iter()
                    .map(|&l| {
                        let v = code % l;
                        code /= l;
                        v
                    })
                    .collect()
            })
            .collect();
        let mut cells = group_by(&inner, &[]);
        for a in 0..4 {
            cells.extend(group_by(&inner, &[a]));
            for b in a + 1..4 {
                cells.extend(group_by(&inner, &[a, b]));
            }
        }
        let mut rng = Rng(99);
        let priority: Vec<f64> = cells
            .iter()
            .map(|c| (c.len() + rng.below(50)) as f64)
            .collect();
        let primary: Vec<bool> = cells
            .iter()
            .map(|c| c.len() == 200 && rng.chance(10))
            .collect();
        let start = std::time::Instant::now();
        let secondary = secondary_suppression(50_000, &cells, &primary, &priority);
        let took = start.elapsed();
        let check = std::time::Instant::now();
        assert!(is_protected(
            50_000,
            &cells,
            &with_secondary(&primary, &secondary)
        ));
        eprintln!(
            "{} cells, {} primary, {} secondary, suppression {:?}, check {:?}",
            cells.len(),
            primary.iter().filter(|&&p| p).count(),
            secondary.len(),
            took,
            check.elapsed()
        );
    }
}
