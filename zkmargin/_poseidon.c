/* zkmargin._poseidon: the fast-form Poseidon permutation over the BN254 scalar field, in C.
 *
 * The same computation as zkmargin.poseidon._permute_python (the executable specification),
 * step for step, on field elements held as 4 x 64-bit little-endian limbs in Montgomery form
 * (x * 2^256 mod r). Montgomery products use unsigned __int128 (gcc, clang).
 *
 * The module holds no Poseidon constants: Python passes each width's sparse constants
 * (zkmargin.poseidon_constants.sparse_constants(t)) once through set_constants(), and they are
 * kept, in Montgomery form, in the module state.
 *
 *   set_constants(t, first_constants, pre_sparse, partial_constants, sparse_rows, sparse_cols,
 *                 last_constants, mds) -> None
 *   has_constants(t) -> bool
 *   permute_first(state) -> int      element 0 of the permuted state (t = len(state))
 *
 * (A batch form, many states per call, saved under 2% of the time per hash: the permutation
 * itself, 18-90 us, dwarfs the call overhead, so there is none.)
 *
 * Every field element passed in must be an int in [0, r): anything else raises TypeError (not an
 * int, or a bool) or ValueError (out of range), naming the element; the module never crashes on
 * bad input. Callers in zkmargin.poseidon check inputs first and raise BoundError.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

/* Widest state accepted (circomlib's Poseidon(16)); sizes the stack buffers. */
#define MAX_WIDTH 17
#define FIELD_BYTES 32

typedef unsigned __int128 u128;

/* for the code that permute() compiles once per width (gcc, clang) */
#define ALWAYS_INLINE inline __attribute__((always_inline))

/* A field element: little-endian 64-bit limbs. */
typedef struct {
    uint64_t l[4];
} fr;

/* r = 21888242871839275222246405745257275088548364400416034343698204186575808495617 */
static const fr MODULUS = {{0x43e1f593f0000001ULL, 0x2833e84879b97091ULL,
                            0xb85045b68181585dULL, 0x30644e72e131a029ULL}};
/* 2r */
static const fr TWICE_MODULUS = {{0x87c3eb27e0000002ULL, 0x5067d090f372e122ULL,
                                  0x70a08b6d0302b0baULL, 0x60c89ce5c2634053ULL}};
/* -r^-1 mod 2^64 */
static const uint64_t MONT_INV = 0xc2e1f593efffffffULL;
/* 2^512 mod r: fr_mul(x, R_SQUARED) = x * 2^256 mod r, i.e. x in Montgomery form. */
static const fr R_SQUARED = {{0x1bb8e645ae216da7ULL, 0x53fe3ab1e35c59e3ULL,
                              0x8c49833d53bb8085ULL, 0x0216d0b17f4e44a5ULL}};
/* 1: fr_mul(x, ONE) takes x out of Montgomery form. */
static const fr ONE = {{1, 0, 0, 0}};

/* ---- field arithmetic on values (every input and output lies in [0, r)) ----
 * Keeping values canonical is what the bounds below rely on (fr_dot's sum of products). It is
 * more than correctness of the hash alone needs: r < 2^254 leaves slack, so a missing final
 * subtraction would go unseen by the differential tests; review such changes by their bounds.
 * Selections are branch-free: which way they go depends on the data, and mispredicted branches
 * cost more than both ways. */

/* a - m when a >= m, else a */
static inline fr subtract_if_at_least(fr a, const fr m)
{
    fr d;
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 diff = (u128)a.l[i] - m.l[i] - borrow;
        d.l[i] = (uint64_t)diff;
        borrow = (uint64_t)(diff >> 64) & 1;
    }
    uint64_t keep = (uint64_t)0 - borrow; /* all ones when a < m */
    for (int i = 0; i < 4; i++)
        d.l[i] = (a.l[i] & keep) | (d.l[i] & ~keep);
    return d;
}

static inline fr fr_add(fr a, fr b)
{
    /* a + b < 2r < 2^255: no carry out of the top limb */
    fr s;
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        u128 v = (u128)a.l[i] + b.l[i] + carry;
        s.l[i] = (uint64_t)v;
        carry = (uint64_t)(v >> 64);
    }
    return subtract_if_at_least(s, MODULUS);
}

/* a * b / 2^256 mod r (CIOS Montgomery multiplication). The top limb of r is below 2^62, so
 * the running value fits in 4 limbs and needs no fifth carry word. */
static inline fr fr_mul(fr a, fr b)
{
    uint64_t t[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        u128 acc = (u128)a.l[0] * b.l[i] + t[0];
        uint64_t carry = (uint64_t)(acc >> 64);
        uint64_t m = (uint64_t)acc * MONT_INV;
        u128 red = (u128)m * MODULUS.l[0] + (uint64_t)acc;
        uint64_t carry_red = (uint64_t)(red >> 64);
        for (int j = 1; j < 4; j++) {
            acc = (u128)a.l[j] * b.l[i] + t[j] + carry;
            carry = (uint64_t)(acc >> 64);
            red = (u128)m * MODULUS.l[j] + (uint64_t)acc + carry_red;
            carry_red = (uint64_t)(red >> 64);
            t[j - 1] = (uint64_t)red;
        }
        t[3] = carry + carry_red;
    }
    fr out = {{t[0], t[1], t[2], t[3]}};
    return subtract_if_at_least(out, MODULUS);
}

/* x^5, the S-box */
static inline fr fr_pow5(fr x)
{
    fr x2 = fr_mul(x, x);
    fr x4 = fr_mul(x2, x2);
    return fr_mul(x4, x);
}

/* sum_j a[j] * b[j] / 2^256 mod r for n <= MAX_WIDTH terms, with one reduction instead of n.
 * The 512-bit sum of products (< 17 r^2 < 2^512) is gathered in 8 column sums (limb k of the
 * result collects the 64-bit halves of weight 2^(64k); each fits 128 bits easily). Its high half
 * (< 17 r^2 / 2^256 < 3.3 r) is brought below r by subtracting 2r and r, and one Montgomery
 * reduction of the whole (now < r * 2^256) leaves a value below 2r. */
static ALWAYS_INLINE fr fr_dot(const fr *a, const fr *b, int n)
{
    u128 column[8] = {0};
    for (int j = 0; j < n; j++)
        for (int p = 0; p < 4; p++)
            for (int q = 0; q < 4; q++) {
                u128 prod = (u128)a[j].l[p] * b[j].l[q];
                column[p + q] += (uint64_t)prod;
                column[p + q + 1] += (uint64_t)(prod >> 64);
            }
    uint64_t w[8];
    u128 carry = 0;
    for (int k = 0; k < 8; k++) {
        carry += column[k];
        w[k] = (uint64_t)carry;
        carry >>= 64;
    }
    fr high = {{w[4], w[5], w[6], w[7]}};
    high = subtract_if_at_least(subtract_if_at_least(high, TWICE_MODULUS), MODULUS);
    for (int k = 0; k < 4; k++)
        w[4 + k] = high.l[k];
    uint64_t carry_top = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t m = w[i] * MONT_INV, c = 0;
        for (int j = 0; j < 4; j++) {
            u128 s = (u128)m * MODULUS.l[j] + w[i + j] + c;
            w[i + j] = (uint64_t)s;
            c = (uint64_t)(s >> 64);
        }
        u128 s = (u128)w[i + 4] + c + carry_top;
        w[i + 4] = (uint64_t)s;
        carry_top = (uint64_t)(s >> 64);
    }
    fr out = {{w[4], w[5], w[6], w[7]}};
    return subtract_if_at_least(out, MODULUS);
}

/* ---- one width's constants (Montgomery form) ---- */

typedef struct {
    int t;
    Py_ssize_t n_first, n_partial, n_last; /* full rounds before, partial rounds, full rounds after */
    fr *first;      /* n_first x t round constants */
    fr *pre_sparse; /* t x t: replaces the MDS matrix in the last of the first full rounds */
    fr *partial;    /* n_partial: the position-0 constant of each partial round */
    fr *rows;       /* n_partial x t: sparse matrix row 0, i.e. M[0][0] then sparse_rows[p] */
    fr *cols;       /* n_partial x (t-1): sparse matrix column 0 below M[0][0] */
    fr *last;       /* n_last x t round constants */
    fr *mds;        /* t x t */
} width_constants;

static void width_constants_free(width_constants *c)
{
    if (c == NULL)
        return;
    PyMem_Free(c->first);
    PyMem_Free(c->pre_sparse);
    PyMem_Free(c->partial);
    PyMem_Free(c->rows);
    PyMem_Free(c->cols);
    PyMem_Free(c->last);
    PyMem_Free(c->mds);
    PyMem_Free(c);
}

typedef struct {
    width_constants *widths[MAX_WIDTH + 1]; /* index t; NULL until set_constants(t, ...) */
} module_state;

static module_state *get_state(PyObject *module)
{
    return (module_state *)PyModule_GetState(module);
}

/* ---- the permutation (mirrors zkmargin.poseidon._permute_python) ---- */

/* The permutation is written once for any width t and compiled once per width (see permute):
 * with t a constant, the compiler unrolls the inner loops, which about halves the run time. */

/* x <- m * (x + rc)^5 for a t x t matrix m */
static ALWAYS_INLINE void full_round(fr *x, const fr *rc, const fr *m, int t)
{
    fr y[MAX_WIDTH];
    for (int i = 0; i < t; i++)
        y[i] = fr_pow5(fr_add(x[i], rc[i]));
    for (int i = 0; i < t; i++)
        x[i] = fr_dot(m + (Py_ssize_t)i * t, y, t);
}

/* Permutes x (t elements, Montgomery form) in place. */
static ALWAYS_INLINE void permute_width(const width_constants *c, fr *x, const int t)
{
    for (Py_ssize_t k = 0; k < c->n_first; k++)
        full_round(x, c->first + k * t, k == c->n_first - 1 ? c->pre_sparse : c->mds, t);
    for (Py_ssize_t p = 0; p < c->n_partial; p++) {
        const fr *col = c->cols + p * (t - 1);
        x[0] = fr_pow5(fr_add(x[0], c->partial[p]));
        fr new0 = fr_dot(c->rows + p * t, x, t);
        for (int i = 1; i < t; i++)
            x[i] = fr_add(x[i], fr_mul(col[i - 1], x[0]));
        x[0] = new0;
    }
    for (Py_ssize_t k = 0; k < c->n_last; k++)
        full_round(x, c->last + k * t, c->mds, t);
}

static void permute(const width_constants *c, fr *x)
{
    switch (c->t) {
#define WIDTH(t)                 \
    case t:                      \
        permute_width(c, x, t);  \
        break;
        WIDTH(2) WIDTH(3) WIDTH(4) WIDTH(5) WIDTH(6) WIDTH(7) WIDTH(8) WIDTH(9)
        WIDTH(10) WIDTH(11) WIDTH(12) WIDTH(13) WIDTH(14) WIDTH(15) WIDTH(16) WIDTH(17)
#undef WIDTH
    }
}

/* ---- Python ints <-> field elements ---- */

static int less_than_modulus(const fr *x)
{
    for (int k = 3; k >= 0; k--)
        if (x->l[k] != MODULUS.l[k])
            return x->l[k] < MODULUS.l[k];
    return 0;
}

/* "name", "name[i]" or "name[i][j]" (negative indices are left out), for error messages. */
static void locate(char *buf, size_t size, const char *name, Py_ssize_t i, Py_ssize_t j)
{
    if (i < 0)
        snprintf(buf, size, "%s", name);
    else if (j < 0)
        snprintf(buf, size, "%s[%zd]", name, i);
    else
        snprintf(buf, size, "%s[%zd][%zd]", name, i, j);
}

/* Reads v, an int in [0, r), into Montgomery form. Otherwise raises TypeError or ValueError
 * naming the element (see locate) and returns -1. */
static int read_element(PyObject *v, fr *out, const char *name, Py_ssize_t i, Py_ssize_t j)
{
    char where[96];
    if (!PyLong_Check(v) || PyBool_Check(v)) {
        locate(where, sizeof where, name, i, j);
        PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", where, Py_TYPE(v)->tp_name);
        return -1;
    }
    unsigned char bytes[FIELD_BYTES];
#if PY_VERSION_HEX >= 0x030D0000
    Py_ssize_t needed = PyLong_AsNativeBytes(
        v, bytes, FIELD_BYTES,
        Py_ASNATIVEBYTES_LITTLE_ENDIAN | Py_ASNATIVEBYTES_UNSIGNED_BUFFER |
            Py_ASNATIVEBYTES_REJECT_NEGATIVE);
    int fits = needed >= 0 && needed <= FIELD_BYTES;
#else
    /* fails (OverflowError) for a negative int or one of more than 256 bits */
    int fits = _PyLong_AsByteArray((PyLongObject *)v, bytes, FIELD_BYTES, 1, 0) == 0;
#endif
    fr x;
    if (fits) {
        for (int k = 0; k < 4; k++) {
            uint64_t limb = 0;
            for (int b = 7; b >= 0; b--)
                limb = (limb << 8) | bytes[8 * k + b];
            x.l[k] = limb;
        }
        fits = less_than_modulus(&x);
    }
    if (!fits) {
        if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_OverflowError) &&
            !PyErr_ExceptionMatches(PyExc_ValueError))
            return -1;
        PyErr_Clear();
        locate(where, sizeof where, name, i, j);
        PyErr_Format(PyExc_ValueError, "%s must lie in [0, r), r the BN254 scalar field order",
                     where);
        return -1;
    }
    *out = fr_mul(x, R_SQUARED);
    return 0;
}

/* The int of a Montgomery-form element. */
static PyObject *element_to_int(const fr *x)
{
    fr plain = fr_mul(*x, ONE);
    unsigned char bytes[FIELD_BYTES];
    for (int k = 0; k < 4; k++)
        for (int b = 0; b < 8; b++)
            bytes[8 * k + b] = (unsigned char)(plain.l[k] >> (8 * b));
#if PY_VERSION_HEX >= 0x030D0000
    return PyLong_FromUnsignedNativeBytes(bytes, FIELD_BYTES, Py_ASNATIVEBYTES_LITTLE_ENDIAN);
#else
    return _PyLong_FromByteArray(bytes, FIELD_BYTES, 1, 0);
#endif
}

/* Reads a sequence of exactly `length` field elements into out,
 * which must have room for it; returns the length, or -1 with an exception set. */
static Py_ssize_t read_vector(PyObject *seq, Py_ssize_t length, fr *out, const char *name,
                              Py_ssize_t row)
{
    char where[96];
    PyObject *fast = PySequence_Fast(seq, "");
    if (fast == NULL) {
        PyErr_Clear();
        locate(where, sizeof where, name, row, -1);
        PyErr_Format(PyExc_TypeError, "%s must be a sequence of ints, not %.100s", where,
                     Py_TYPE(seq)->tp_name);
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n != length) {
        locate(where, sizeof where, name, row, -1);
        PyErr_Format(PyExc_ValueError, "%s must have %zd elements, got %zd", where, length, n);
        Py_DECREF(fast);
        return -1;
    }
    PyObject **items = PySequence_Fast_ITEMS(fast);
    for (Py_ssize_t k = 0; k < n; k++) {
        int failed = row < 0 ? read_element(items[k], &out[k], name, k, -1)
                             : read_element(items[k], &out[k], name, row, k);
        if (failed) {
            Py_DECREF(fast);
            return -1;
        }
    }
    Py_DECREF(fast);
    return n;
}

/* Reads a sequence of field elements into a new PyMem array and stores its length in *n.
 * Returns NULL with an exception set on failure. */
static fr *read_vector_new(PyObject *seq, const char *name, Py_ssize_t *n)
{
    Py_ssize_t length = PySequence_Size(seq);
    if (length < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s must be a sequence of ints, not %.100s", name,
                     Py_TYPE(seq)->tp_name);
        return NULL;
    }
    fr *out = PyMem_New(fr, length + 1); /* + 1: a valid pointer for length 0 */
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    if (read_vector(seq, length, out, name, -1) < 0) {
        PyMem_Free(out);
        return NULL;
    }
    *n = length;
    return out;
}

/* Reads a matrix of `cols` columns and exactly `rows` rows (any number when rows < 0) into a new
 * PyMem array, row after row, and stores the row count in *n_rows. Returns NULL with an
 * exception set on failure. */
static fr *read_matrix(PyObject *seq, Py_ssize_t rows, Py_ssize_t cols, const char *name,
                       Py_ssize_t *n_rows)
{
    PyObject *fast = PySequence_Fast(seq, "");
    if (fast == NULL) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s must be a sequence of rows, not %.100s", name,
                     Py_TYPE(seq)->tp_name);
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (rows >= 0 && n != rows) {
        PyErr_Format(PyExc_ValueError, "%s must have %zd rows, got %zd", name, rows, n);
        Py_DECREF(fast);
        return NULL;
    }
    fr *out = PyMem_New(fr, n * cols + 1); /* + 1: a valid pointer for 0 rows */
    if (out == NULL) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (read_vector(PySequence_Fast_GET_ITEM(fast, i), cols, out + i * cols, name, i) < 0) {
            PyMem_Free(out);
            Py_DECREF(fast);
            return NULL;
        }
    }
    Py_DECREF(fast);
    *n_rows = n;
    return out;
}

/* ---- module functions ---- */

/* The constants of width t (an int object), or NULL with ValueError when t is unsupported or
 * has no constants yet. */
static const width_constants *constants_for(PyObject *module, Py_ssize_t t)
{
    if (t < 2 || t > MAX_WIDTH) {
        PyErr_Format(PyExc_ValueError, "Poseidon state width t = %zd must lie in [2, %d]", t,
                     MAX_WIDTH);
        return NULL;
    }
    const width_constants *c = get_state(module)->widths[t];
    if (c == NULL)
        PyErr_Format(PyExc_ValueError, "no constants for width t = %zd: call set_constants first",
                     t);
    return c;
}

PyDoc_STRVAR(set_constants_doc,
"set_constants(t, first_constants, pre_sparse, partial_constants, sparse_rows, sparse_cols,\n"
"              last_constants, mds) -> None\n\n"
"Store the sparse (fast-form) constants of state width t = 2..17: the fields of\n"
"zkmargin.poseidon_constants.sparse_constants(t), in that order. Replaces earlier ones.");

static PyObject *set_constants(PyObject *module, PyObject *args)
{
    int t;
    PyObject *first, *pre_sparse, *partial, *rows, *cols, *last, *mds;
    if (!PyArg_ParseTuple(args, "iOOOOOOO:set_constants", &t, &first, &pre_sparse, &partial,
                          &rows, &cols, &last, &mds))
        return NULL;
    if (t < 2 || t > MAX_WIDTH)
        return PyErr_Format(PyExc_ValueError, "Poseidon state width t = %d must lie in [2, %d]",
                            t, MAX_WIDTH);
    width_constants *c = PyMem_Calloc(1, sizeof *c);
    if (c == NULL)
        return PyErr_NoMemory();
    c->t = t;
    Py_ssize_t square;
    fr *sparse_rows = NULL;
    if ((c->first = read_matrix(first, -1, t, "first_constants", &c->n_first)) == NULL ||
        (c->pre_sparse = read_matrix(pre_sparse, t, t, "pre_sparse", &square)) == NULL ||
        (c->partial = read_vector_new(partial, "partial_constants", &c->n_partial)) == NULL ||
        (sparse_rows = read_matrix(rows, c->n_partial, t - 1, "sparse_rows", &square)) == NULL ||
        (c->cols = read_matrix(cols, c->n_partial, t - 1, "sparse_cols", &square)) == NULL ||
        (c->last = read_matrix(last, -1, t, "last_constants", &c->n_last)) == NULL ||
        (c->mds = read_matrix(mds, t, t, "mds", &square)) == NULL ||
        (c->rows = PyMem_New(fr, c->n_partial * t + 1)) == NULL) {
        PyMem_Free(sparse_rows);
        goto fail;
    }
    for (Py_ssize_t p = 0; p < c->n_partial; p++) {
        c->rows[p * t] = c->mds[0];
        memcpy(&c->rows[p * t + 1], &sparse_rows[p * (t - 1)], sizeof(fr) * (t - 1));
    }
    PyMem_Free(sparse_rows);
    module_state *state = get_state(module);
    width_constants_free(state->widths[t]);
    state->widths[t] = c;
    Py_RETURN_NONE;
fail:
    if (!PyErr_Occurred())
        PyErr_NoMemory();
    width_constants_free(c);
    return NULL;
}

PyDoc_STRVAR(has_constants_doc,
"has_constants(t) -> bool\n\nWhether set_constants has stored the constants of width t.");

static PyObject *has_constants(PyObject *module, PyObject *arg)
{
    Py_ssize_t t = PyLong_AsSsize_t(arg);
    if (t == -1 && PyErr_Occurred())
        return NULL;
    return PyBool_FromLong(t >= 2 && t <= MAX_WIDTH && get_state(module)->widths[t] != NULL);
}

PyDoc_STRVAR(permute_first_doc,
"permute_first(state) -> int\n\n"
"Element 0 of the Poseidon permutation of state (t = len(state) ints in [0, r)).");

static PyObject *permute_first(PyObject *module, PyObject *state)
{
    Py_ssize_t t = PySequence_Size(state);
    if (t < 0)
        return NULL;
    const width_constants *c = constants_for(module, t);
    if (c == NULL)
        return NULL;
    fr x[MAX_WIDTH];
    if (read_vector(state, t, x, "state", -1) < 0)
        return NULL;
    permute(c, x);
    return element_to_int(&x[0]);
}

static PyMethodDef methods[] = {
    {"set_constants", set_constants, METH_VARARGS, set_constants_doc},
    {"has_constants", has_constants, METH_O, has_constants_doc},
    {"permute_first", permute_first, METH_O, permute_first_doc},
    {NULL, NULL, 0, NULL},
};

static void module_free(void *module)
{
    module_state *state = get_state((PyObject *)module);
    if (state == NULL)
        return;
    for (int t = 0; t <= MAX_WIDTH; t++) {
        width_constants_free(state->widths[t]);
        state->widths[t] = NULL;
    }
}

PyDoc_STRVAR(module_doc,
"Poseidon (circomlib, BN254) fast-form permutation in C; see zkmargin.poseidon, which loads\n"
"the constants of each width and falls back to its pure-Python permutation without this.");

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "zkmargin._poseidon",
    .m_doc = module_doc,
    .m_size = sizeof(module_state),
    .m_methods = methods,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__poseidon(void)
{
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL)
        return NULL;
    if (PyModule_AddIntConstant(module, "MAX_WIDTH", MAX_WIDTH) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
