/*
 * The innermost loop of ruin and recreate, compiled: the cheapest feasible position of one
 * job in one route of a vehicle without breaks.
 *
 * It computes exactly what slack.Tables.python_cheapest computes, line for line, and draws
 * the same random numbers in the same order (it calls the search's own random.random), so a
 * search gives the same answer with or without it; tests/optimizer/test_insertion_kernel.py
 * holds the two equal on random routes. Why by hand: the loop is pure integer arithmetic over
 * lists, about 80 % of a ruin-and-recreate iteration in CPython, and compiled it is some
 * twenty times faster; no library does "our" feasibility check (several windows, setups
 * paid only on a change of place, latest departures kept per stop).
 *
 * Built by setup.py as an optional extension (scheduler.optimizer._insertion); when it is
 * missing or its KERNEL_VERSION differs from slack.KERNEL_VERSION the Python loop is used.
 *
 * Times are 64-bit integers, as in the Python tables (NEVER = -2**62, NO_END = 2**62).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define KERNEL_VERSION 1
#define NEVER (-(INT64_C(1) << 62))      /* slack.NEVER */
#define NEVER_READY (-(INT64_C(1) << 61)) /* slack.NEVER // 2 */

typedef struct {
    PyObject_HEAD
    Py_ssize_t places;  /* side of the square matrix (every place and "nowhere") */
    Py_ssize_t jobs;
    Py_ssize_t vehicles;
    int64_t *durations; /* places * places, row = from */
    int64_t *place, *ready, *due, *last_due, *setup, *service, *order;
    int64_t *several;      /* 1 if the job has more than one window */
    int64_t *window_from;  /* jobs + 1 offsets into windows (pairs) */
    int64_t *windows;      /* start, end, start, end, ... */
    int64_t *closes;       /* per vehicle */
    Py_ssize_t dims;
    int64_t *demand;       /* jobs * dims */
    int64_t *capacity;     /* vehicles * dims; only where has_capacity */
    int64_t *has_capacity, *max_tasks, *max_travel, *timed, *kind; /* per vehicle */
    int64_t *start, *end, *opens;                                   /* per vehicle */
    int64_t *seen;         /* per vehicle: the call that last tried an empty vehicle of a kind */
    int64_t calls;
} Kernel;

static PyObject *s_places, *s_departs, *s_latest, *s_legs, *s_class_starts, *s_jobs,
    *s_vehicle, *s_travel, *s_load;

/* A list of ints as a new C array of `count` (checked) int64; NULL with an error set. */
static int64_t *
int_array(PyObject *list, Py_ssize_t count, const char *what)
{
    if (!PyList_Check(list) || PyList_GET_SIZE(list) != count) {
        PyErr_Format(PyExc_ValueError, "%s: a list of %zd ints is expected", what, count);
        return NULL;
    }
    int64_t *out = PyMem_Malloc(sizeof(int64_t) * (count ? count : 1));
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        out[i] = PyLong_AsLongLong(PyList_GET_ITEM(list, i));
        if (out[i] == -1 && PyErr_Occurred()) {
            PyMem_Free(out);
            return NULL;
        }
    }
    return out;
}

static void
Kernel_dealloc(Kernel *self)
{
    PyMem_Free(self->durations);
    PyMem_Free(self->place);
    PyMem_Free(self->ready);
    PyMem_Free(self->due);
    PyMem_Free(self->last_due);
    PyMem_Free(self->setup);
    PyMem_Free(self->service);
    PyMem_Free(self->order);
    PyMem_Free(self->several);
    PyMem_Free(self->window_from);
    PyMem_Free(self->windows);
    PyMem_Free(self->closes);
    PyMem_Free(self->demand);
    PyMem_Free(self->capacity);
    PyMem_Free(self->has_capacity);
    PyMem_Free(self->max_tasks);
    PyMem_Free(self->max_travel);
    PyMem_Free(self->timed);
    PyMem_Free(self->kind);
    PyMem_Free(self->seen);
    PyMem_Free(self->start);
    PyMem_Free(self->end);
    PyMem_Free(self->opens);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Kernel(durations_flat, places, place, ready, due, last_due, setup, service, order,
 *        several, window_from, windows, closes, dims, demand_flat, capacity_flat,
 *        has_capacity, max_tasks, max_travel, timed, kind, start, end, opens) -- lists of
 *        ints, and two ints. */
static int
Kernel_init(Kernel *self, PyObject *args, PyObject *kwds)
{
    PyObject *durations, *place, *ready, *due, *last_due, *setup, *service, *order, *several,
        *window_from, *windows, *closes, *demand, *capacity, *has_capacity, *max_tasks,
        *max_travel, *timed, *kind, *start, *end, *opens;
    Py_ssize_t places, dims;
    (void)kwds;
    if (!PyArg_ParseTuple(args, "OnOOOOOOOOOOOnOOOOOOOOOO", &durations, &places, &place, &ready,
                          &due, &last_due, &setup, &service, &order, &several, &window_from,
                          &windows, &closes, &dims, &demand, &capacity, &has_capacity,
                          &max_tasks, &max_travel, &timed, &kind, &start, &end, &opens))
        return -1;
    if (!PyList_Check(place) || !PyList_Check(windows) || !PyList_Check(closes) ||
        self->durations != NULL) {
        PyErr_SetString(PyExc_TypeError, "Kernel takes lists, once");
        return -1;
    }
    Py_ssize_t jobs = PyList_GET_SIZE(place), vehicles = PyList_GET_SIZE(closes);
    self->places = places;
    self->jobs = jobs;
    self->vehicles = vehicles;
    self->dims = dims;
    if (!(self->durations = int_array(durations, places * places, "durations")) ||
        !(self->place = int_array(place, jobs, "place")) ||
        !(self->ready = int_array(ready, jobs, "ready")) ||
        !(self->due = int_array(due, jobs, "due")) ||
        !(self->last_due = int_array(last_due, jobs, "last_due")) ||
        !(self->setup = int_array(setup, jobs, "setup")) ||
        !(self->service = int_array(service, jobs, "service")) ||
        !(self->order = int_array(order, jobs, "order")) ||
        !(self->several = int_array(several, jobs, "several")) ||
        !(self->window_from = int_array(window_from, jobs + 1, "window_from")) ||
        !(self->windows = int_array(windows, PyList_GET_SIZE(windows), "windows")) ||
        !(self->closes = int_array(closes, vehicles, "closes")) ||
        !(self->demand = int_array(demand, jobs * dims, "demand")) ||
        !(self->capacity = int_array(capacity, vehicles * dims, "capacity")) ||
        !(self->has_capacity = int_array(has_capacity, vehicles, "has_capacity")) ||
        !(self->max_tasks = int_array(max_tasks, vehicles, "max_tasks")) ||
        !(self->max_travel = int_array(max_travel, vehicles, "max_travel")) ||
        !(self->timed = int_array(timed, vehicles, "timed")) ||
        !(self->kind = int_array(kind, vehicles, "kind")) ||
        !(self->start = int_array(start, vehicles, "start")) ||
        !(self->end = int_array(end, vehicles, "end")) ||
        !(self->opens = int_array(opens, vehicles, "opens")))
        return -1;
    self->seen = PyMem_Calloc(vehicles ? vehicles : 1, sizeof(int64_t));
    if (self->seen == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t p = 0; p < jobs; p++) {
        if (self->place[p] < 0 || self->place[p] >= places) {
            PyErr_SetString(PyExc_ValueError, "a job's place is outside the matrix");
            return -1;
        }
    }
    for (Py_ssize_t v = 0; v < vehicles; v++) {
        if (self->kind[v] < 0 || self->kind[v] >= vehicles || self->start[v] < 0 ||
            self->start[v] >= places || self->end[v] < 0 || self->end[v] >= places) {
            PyErr_SetString(PyExc_ValueError, "a vehicle's kind or place is out of range");
            return -1;
        }
    }
    return 0;
}

/* slack.earliest_in, or the single window: the start of job p on arriving at `arrival`;
 * 0 (and nothing written) when its windows are past. */
static inline int
start_at(const Kernel *k, Py_ssize_t p, int64_t arrival, int64_t *start)
{
    if (k->several[p]) {
        for (int64_t w = k->window_from[p]; w < k->window_from[p + 1]; w++) {
            int64_t from = k->windows[2 * w], to = k->windows[2 * w + 1];
            if (arrival <= to) {
                *start = arrival < from ? from : arrival;
                return 1;
            }
        }
        return 0;
    }
    int64_t s = arrival > k->ready[p] ? arrival : k->ready[p];
    if (s > k->due[p])
        return 0;
    *start = s;
    return 1;
}

/* list[i] as int64 (the list is the route's, built by slack.py: ints only). */
#define AT(list, i) PyLong_AsLongLong(PyList_GET_ITEM((list), (i)))

static PyObject *
get_list(PyObject *route, PyObject *name)
{
    PyObject *value = PyObject_GetAttr(route, name);
    if (value != NULL && !PyList_Check(value)) {
        Py_DECREF(value);
        PyErr_SetString(PyExc_TypeError, "a route's tables must be lists");
        return NULL;
    }
    return value;
}

/* The route's lists, borrowed for one call (the caller holds the route). */
typedef struct {
    PyObject *places, *departs, *latest, *legs, *starts, *jobs;
    Py_ssize_t vehicle, n;
} RouteLists;

static void
release(RouteLists *t)
{
    Py_CLEAR(t->places);
    Py_CLEAR(t->departs);
    Py_CLEAR(t->latest);
    Py_CLEAR(t->legs);
    Py_CLEAR(t->starts);
    Py_CLEAR(t->jobs);
}

/* Read a route's tables and check their sizes; -1 with an error set. */
static int
read_route(const Kernel *self, PyObject *route, RouteLists *t)
{
    memset(t, 0, sizeof(*t));
    if (!(t->places = get_list(route, s_places)) || !(t->departs = get_list(route, s_departs)) ||
        !(t->latest = get_list(route, s_latest)) || !(t->legs = get_list(route, s_legs)) ||
        !(t->starts = get_list(route, s_class_starts)) || !(t->jobs = get_list(route, s_jobs)))
        goto fail;
    PyObject *vehicle = PyObject_GetAttr(route, s_vehicle);
    if (vehicle == NULL)
        goto fail;
    t->vehicle = PyLong_AsSsize_t(vehicle);
    Py_DECREF(vehicle);
    if (t->vehicle < 0 || t->vehicle >= self->vehicles) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_IndexError, "no such vehicle");
        goto fail;
    }
    Py_ssize_t n = t->n = PyList_GET_SIZE(t->jobs);
    if (PyList_GET_SIZE(t->places) != n + 2 || PyList_GET_SIZE(t->departs) != n + 1 ||
        PyList_GET_SIZE(t->latest) != n + 1 || PyList_GET_SIZE(t->legs) != n + 1) {
        PyErr_SetString(PyExc_ValueError, "a route's tables do not match its jobs");
        goto fail;
    }
    return 0;
fail:
    release(t);
    return -1;
}

/* slack.Tables.python_cheapest for a vehicle without breaks: lowers *best_cost and sets
 * *best_at when a cheaper feasible position is found. -1 with an error set. */
static int
scan(const Kernel *self, const RouteLists *t, Py_ssize_t p, int64_t *best_cost, int64_t budget,
     PyObject *random, double blink, Py_ssize_t *best_at)
{
    const Py_ssize_t n = t->n;
    const int64_t c = self->order[p];
    if (c < 0 || c + 1 >= PyList_GET_SIZE(t->starts)) {
        PyErr_SetString(PyExc_ValueError, "a route's class starts are out of range");
        return -1;
    }
    Py_ssize_t first = (Py_ssize_t)AT(t->starts, c), last = (Py_ssize_t)AT(t->starts, c + 1);
    if (PyErr_Occurred())
        return -1;
    if (first < 0 || last > n || first > last) {
        PyErr_SetString(PyExc_ValueError, "a route's class starts are out of range");
        return -1;
    }
    const int64_t earliest_done = self->ready[p] + self->service[p];
    if (earliest_done > NEVER_READY && first < last) {
        /* bisect_left(latest, earliest_done, first + 1, last + 1) - 1 */
        Py_ssize_t lo = first + 1, hi = last + 1;
        while (lo < hi) {
            Py_ssize_t mid = (lo + hi) / 2;
            if (AT(t->latest, mid) < earliest_done)
                lo = mid + 1;
            else
                hi = mid;
        }
        first = lo - 1;
    }
    const int64_t *D = self->durations;
    const Py_ssize_t side = self->places;
    const int64_t here = self->place[p], last_due = self->last_due[p];
    for (Py_ssize_t k = first; k <= last; k++) {
        int64_t depart = AT(t->departs, k);
        if (depart > last_due)
            break;
        int64_t before = AT(t->places, k), after = AT(t->places, k + 1), leg = AT(t->legs, k);
        if (PyErr_Occurred())
            return -1;
        if (before < 0 || before >= side || after < 0 || after >= side) {
            PyErr_SetString(PyExc_IndexError, "a route's place is outside the matrix");
            return -1;
        }
        int64_t cost = D[before * side + here] + D[here * side + after] - leg;
        if (cost >= *best_cost || cost > budget)
            continue;
        PyObject *drawn = PyObject_CallNoArgs(random);
        if (drawn == NULL)
            return -1;
        double r = PyFloat_AsDouble(drawn);
        Py_DECREF(drawn);
        if (r == -1.0 && PyErr_Occurred())
            return -1;
        if (r < blink)
            continue;
        /* slack.Tables.insertion_fits, without breaks */
        int64_t start;
        if (!start_at(self, p, depart + D[before * side + here], &start))
            continue;
        int64_t clock = start + (here != before ? self->setup[p] : 0) + self->service[p];
        int64_t arrival = clock + D[here * side + after];
        if (k == n) {
            if (arrival > self->closes[t->vehicle])
                continue;
        }
        else {
            Py_ssize_t q = PyLong_AsSsize_t(PyList_GET_ITEM(t->jobs, k));
            if (q < 0 || q >= self->jobs) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_IndexError, "no such job in the route");
                return -1;
            }
            if (!start_at(self, q, arrival, &start))
                continue;
            int64_t finish = start + (after != here ? self->setup[q] : 0) + self->service[q];
            if (finish > AT(t->latest, k + 1))
                continue;
        }
        *best_cost = cost;
        *best_at = k;
    }
    return PyErr_Occurred() ? -1 : 0;
}

/* best_cost as int64: math.inf (costs are ints, so "cost >= inf" is never true) is INT64_MAX. */
static int
read_best(PyObject *value, int64_t *out)
{
    if (PyFloat_Check(value)) {
        double x = PyFloat_AS_DOUBLE(value);
        if (x > 9.0e18) {
            *out = INT64_MAX;
            return 0;
        }
        PyErr_SetString(PyExc_TypeError, "best_cost: an int or math.inf");
        return -1;
    }
    *out = PyLong_AsLongLong(value);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

/* cheapest(route, p, best_cost, budget, random, blink) -> (cost, k) or None */
static PyObject *
Kernel_cheapest(Kernel *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "cheapest(route, p, best_cost, budget, random, blink)");
        return NULL;
    }
    Py_ssize_t p = PyLong_AsSsize_t(args[1]);
    if (p == -1 && PyErr_Occurred())
        return NULL;
    if (p < 0 || p >= self->jobs) {
        PyErr_SetString(PyExc_IndexError, "no such job");
        return NULL;
    }
    int64_t best_cost, budget = PyLong_AsLongLong(args[3]);
    if ((budget == -1 && PyErr_Occurred()) || read_best(args[2], &best_cost) < 0)
        return NULL;
    double blink = PyFloat_AsDouble(args[5]);
    if (blink == -1.0 && PyErr_Occurred())
        return NULL;
    RouteLists t;
    if (read_route(self, args[0], &t) < 0)
        return NULL;
    Py_ssize_t best_at = -1;
    int failed = scan(self, &t, p, &best_cost, budget, args[4], blink, &best_at);
    release(&t);
    if (failed)
        return NULL;
    if (best_at < 0)
        Py_RETURN_NONE;
    return Py_BuildValue("(Ln)", (long long)best_cost, best_at);
}

/* best(routes, vehicles, p, random, blink, slow) -> (vehicle, k) or None
 *
 * slack.Tables.python_best: every candidate vehicle's route, one empty vehicle per kind,
 * room_for, then cheapest; a vehicle with breaks goes through slow(route, p, best_cost,
 * budget, random, blink) (python_cheapest), so a mixed fleet gives the same answer. */
static PyObject *
Kernel_best(Kernel *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "best(routes, vehicles, p, random, blink, slow)");
        return NULL;
    }
    PyObject *routes = args[0], *vehicles = args[1], *random = args[3], *slow = args[5];
    if (!PyList_Check(routes) || !PyList_Check(vehicles)) {
        PyErr_SetString(PyExc_TypeError, "routes and vehicles must be lists");
        return NULL;
    }
    Py_ssize_t p = PyLong_AsSsize_t(args[2]);
    if (p == -1 && PyErr_Occurred())
        return NULL;
    if (p < 0 || p >= self->jobs) {
        PyErr_SetString(PyExc_IndexError, "no such job");
        return NULL;
    }
    double blink = PyFloat_AsDouble(args[4]);
    if (blink == -1.0 && PyErr_Occurred())
        return NULL;
    const int64_t call = ++self->calls;
    const Py_ssize_t dims = self->dims;
    int64_t best_cost = INT64_MAX;
    Py_ssize_t best_vehicle = -1, best_at = -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(vehicles); i++) {
        Py_ssize_t v = PyLong_AsSsize_t(PyList_GET_ITEM(vehicles, i));
        if (v < 0 || v >= self->vehicles || v >= PyList_GET_SIZE(routes)) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_IndexError, "no such vehicle");
            return NULL;
        }
        PyObject *route = PyList_GET_ITEM(routes, v);
        if (route == Py_None)
            continue;
        PyObject *jobs = get_list(route, s_jobs);
        if (jobs == NULL)
            return NULL;
        Py_ssize_t n = PyList_GET_SIZE(jobs);
        Py_DECREF(jobs);
        if (n == 0) { /* one empty vehicle of each kind is enough */
            if (self->seen[self->kind[v]] == call)
                continue;
            self->seen[self->kind[v]] = call;
        }
        if (n >= self->max_tasks[v]) /* slack.Tables.room_for */
            continue;
        if (self->has_capacity[v]) {
            PyObject *load = get_list(route, s_load);
            if (load == NULL)
                return NULL;
            int room = PyList_GET_SIZE(load) == dims;
            for (Py_ssize_t d = 0; room && d < dims; d++)
                room = AT(load, d) + self->demand[p * dims + d] <= self->capacity[v * dims + d];
            Py_DECREF(load);
            if (PyErr_Occurred())
                return NULL;
            if (!room)
                continue;
        }
        PyObject *travel_obj = PyObject_GetAttr(route, s_travel);
        if (travel_obj == NULL)
            return NULL;
        int64_t travel = PyLong_AsLongLong(travel_obj);
        Py_DECREF(travel_obj);
        if (travel == -1 && PyErr_Occurred())
            return NULL;
        int64_t budget = self->max_travel[v] - travel;
        if (self->timed[v]) {
            PyObject *best_obj = best_cost == INT64_MAX ? PyFloat_FromDouble(Py_HUGE_VAL)
                                                        : PyLong_FromLongLong(best_cost);
            PyObject *found = best_obj == NULL ? NULL
                : PyObject_CallFunction(slow, "OnOLOd", route, p, best_obj, (long long)budget,
                                        random, blink);
            Py_XDECREF(best_obj);
            if (found == NULL)
                return NULL;
            if (found != Py_None) {
                long long cost;
                Py_ssize_t k;
                if (!PyArg_ParseTuple(found, "Ln", &cost, &k)) {
                    Py_DECREF(found);
                    return NULL;
                }
                best_cost = cost;
                best_at = k;
                best_vehicle = v;
            }
            Py_DECREF(found);
            continue;
        }
        RouteLists t;
        if (read_route(self, route, &t) < 0)
            return NULL;
        Py_ssize_t at = -1;
        int failed = scan(self, &t, p, &best_cost, budget, random, blink, &at);
        release(&t);
        if (failed)
            return NULL;
        if (at >= 0) {
            best_at = at;
            best_vehicle = v;
        }
    }
    if (best_vehicle < 0)
        Py_RETURN_NONE;
    return Py_BuildValue("(nn)", best_vehicle, best_at);
}

/* slack.Tables._latest_start_or_never */
static inline int64_t
latest_start_or_never(const Kernel *k, Py_ssize_t p, int64_t start)
{
    if (k->several[p]) {
        for (int64_t w = k->window_from[p + 1] - 1; w >= k->window_from[p]; w--) {
            int64_t from = k->windows[2 * w], to = k->windows[2 * w + 1];
            if (start >= from)
                return start < to ? start : to;
        }
        return k->window_from[p + 1] == k->window_from[p] ? start : NEVER;
    }
    return start > k->due[p] ? k->due[p] : start;
}

/* with_job(route, p, k) -> (jobs, places, departs, latest, load, travel, legs)
 *
 * The tables of slack.Tables.python_with_job (a vehicle without breaks, a day of one class):
 * the caller has checked that p fits after stop k. */
static PyObject *
Kernel_with_job(Kernel *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "with_job(route, p, k)");
        return NULL;
    }
    PyObject *route = args[0];
    Py_ssize_t p = PyLong_AsSsize_t(args[1]), k = PyLong_AsSsize_t(args[2]);
    if (PyErr_Occurred())
        return NULL;
    if (p < 0 || p >= self->jobs) {
        PyErr_SetString(PyExc_IndexError, "no such job");
        return NULL;
    }
    RouteLists t;
    if (read_route(self, route, &t) < 0)
        return NULL;
    PyObject *jobs = NULL, *places = NULL, *departs = NULL, *latest = NULL, *load = NULL,
             *legs = NULL, *old_load = NULL, *travel_obj = NULL, *result = NULL;
    int64_t *job = NULL, *at = NULL, *dep = NULL, *lat = NULL;
    const Py_ssize_t old_n = t.n, n = old_n + 1, side = self->places, dims = self->dims;
    const int64_t *D = self->durations;
    if (k < 0 || k > old_n) {
        PyErr_SetString(PyExc_IndexError, "no such stop");
        goto done;
    }
    /* New jobs and places as C arrays first, then the lists. */
    job = PyMem_Malloc(sizeof(int64_t) * (n + 1));
    at = PyMem_Malloc(sizeof(int64_t) * (n + 2));
    dep = PyMem_Malloc(sizeof(int64_t) * (n + 1));
    lat = PyMem_Malloc(sizeof(int64_t) * (n + 1));
    if (!job || !at || !dep || !lat) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0, j = 0; i < n; i++)
        job[i] = i == k ? (int64_t)p : AT(t.jobs, j++);
    for (Py_ssize_t i = 0, j = 0; i < n + 2; i++)
        at[i] = i == k + 1 ? self->place[p] : AT(t.places, j++);
    if (PyErr_Occurred())
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (job[i] < 0 || job[i] >= self->jobs) {
            PyErr_SetString(PyExc_IndexError, "no such job in the route");
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < n + 2; i++) {
        if (at[i] < 0 || at[i] >= side) {
            PyErr_SetString(PyExc_IndexError, "a route's place is outside the matrix");
            goto done;
        }
    }
    const int64_t here = at[k + 1], before = at[k], after = at[k + 2];
    travel_obj = PyObject_GetAttr(route, s_travel);
    if (travel_obj == NULL)
        goto done;
    int64_t travel = PyLong_AsLongLong(travel_obj);
    if (travel == -1 && PyErr_Occurred())
        goto done;
    travel += D[before * side + here] + D[here * side + after] - D[before * side + after];

    /* Earliest departures: the same up to stop k, new from the job on until one is unchanged. */
    for (Py_ssize_t i = 0; i <= k; i++)
        dep[i] = AT(t.departs, i);
    int64_t clock = dep[k];
    for (Py_ssize_t i = k + 1; i <= n; i++) {
        Py_ssize_t q = job[i - 1];
        int64_t start;
        if (!start_at(self, q, clock + D[at[i - 1] * side + at[i]], &start)) {
            PyErr_SetString(PyExc_AssertionError, "insertion_fits and with_job disagree");
            goto done;
        }
        clock = start + (at[i] != at[i - 1] ? self->setup[q] : 0) + self->service[q];
        dep[i] = clock;
        if (i > k + 1 && clock == AT(t.departs, i - 1)) {
            for (Py_ssize_t j = i + 1; j <= n; j++)
                dep[j] = AT(t.departs, j - 1);
            break;
        }
    }
    /* Latest departures: the same after the job, new from it back until one is unchanged. */
    for (Py_ssize_t i = k + 2; i <= n; i++)
        lat[i] = AT(t.latest, i - 1);
    int64_t leave;
    if (k + 1 == n) {
        leave = self->closes[t.vehicle] - D[here * side + at[n + 1]];
    }
    else {
        Py_ssize_t q = job[k + 1];
        int64_t start = lat[k + 2] - self->service[q] - (at[k + 2] != here ? self->setup[q] : 0);
        leave = latest_start_or_never(self, q, start) - D[here * side + at[k + 2]];
    }
    Py_ssize_t i;
    for (i = k + 1; i > 0; i--) {
        lat[i] = leave;
        Py_ssize_t q = job[i - 1];
        int64_t start = leave - self->service[q] - (at[i] != at[i - 1] ? self->setup[q] : 0);
        leave = latest_start_or_never(self, q, start) - D[at[i - 1] * side + at[i]];
        if (i - 1 <= k && leave == AT(t.latest, i - 1)) {
            for (Py_ssize_t j = 0; j < i - 1; j++)
                lat[j] = AT(t.latest, j);
            break;
        }
    }
    if (i == 0)
        i = 1;
    lat[i - 1] = leave;
    if (PyErr_Occurred())
        goto done;

    jobs = PyList_New(n);
    places = PyList_New(n + 2);
    departs = PyList_New(n + 1);
    latest = PyList_New(n + 1);
    legs = PyList_New(n + 1);
    load = PyList_New(dims);
    if (!jobs || !places || !departs || !latest || !legs || !load)
        goto done;
    for (Py_ssize_t j = 0; j < n; j++) {
        PyObject *x = PyLong_FromLongLong(job[j]);
        if (x == NULL)
            goto done;
        PyList_SET_ITEM(jobs, j, x);
    }
    for (Py_ssize_t j = 0; j < n + 2; j++) {
        PyObject *x = PyLong_FromLongLong(at[j]);
        if (x == NULL)
            goto done;
        PyList_SET_ITEM(places, j, x);
    }
    for (Py_ssize_t j = 0; j <= n; j++) {
        PyObject *x = PyLong_FromLongLong(dep[j]), *y = PyLong_FromLongLong(lat[j]),
                 *z = PyLong_FromLongLong(D[at[j] * side + at[j + 1]]);
        if (x == NULL || y == NULL || z == NULL) {
            Py_XDECREF(x);
            Py_XDECREF(y);
            Py_XDECREF(z);
            goto done;
        }
        PyList_SET_ITEM(departs, j, x);
        PyList_SET_ITEM(latest, j, y);
        PyList_SET_ITEM(legs, j, z);
    }
    old_load = get_list(route, s_load);
    if (old_load == NULL)
        goto done;
    if (PyList_GET_SIZE(old_load) != dims) {
        PyErr_SetString(PyExc_ValueError, "a route's load has the wrong size");
        goto done;
    }
    for (Py_ssize_t d = 0; d < dims; d++) {
        int64_t amount = AT(old_load, d);
        if (amount == -1 && PyErr_Occurred())
            goto done;
        PyObject *x = PyLong_FromLongLong(amount + self->demand[p * dims + d]);
        if (x == NULL)
            goto done;
        PyList_SET_ITEM(load, d, x);
    }
    result = Py_BuildValue("(OOOOOLO)", jobs, places, departs, latest, load, (long long)travel,
                           legs);
done:
    release(&t);
    PyMem_Free(job);
    PyMem_Free(at);
    PyMem_Free(dep);
    PyMem_Free(lat);
    Py_XDECREF(jobs);
    Py_XDECREF(places);
    Py_XDECREF(departs);
    Py_XDECREF(latest);
    Py_XDECREF(legs);
    Py_XDECREF(load);
    Py_XDECREF(old_load);
    Py_XDECREF(travel_obj);
    return result;
}

/* A new list of the ints values[0 .. count - 1]; NULL with an error set. */
static PyObject *
int_list(const int64_t *values, Py_ssize_t count)
{
    PyObject *list = PyList_New(count);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *x = PyLong_FromLongLong(values[i]);
        if (x == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, x);
    }
    return list;
}

/* relaxed(vehicle, jobs) -> (places, departs, latest, legs, travel, load) or None
 *
 * slack.Tables.python_relaxed's tables for a day of one class: None when max_tasks, the
 * capacity, max_travel_time, a window or the vehicle's end is broken (breaks aside). */
static PyObject *
Kernel_relaxed(Kernel *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "relaxed(vehicle, jobs: list)");
        return NULL;
    }
    Py_ssize_t v = PyLong_AsSsize_t(args[0]);
    if (v == -1 && PyErr_Occurred())
        return NULL;
    if (v < 0 || v >= self->vehicles) {
        PyErr_SetString(PyExc_IndexError, "no such vehicle");
        return NULL;
    }
    PyObject *list = args[1], *result = NULL;
    const Py_ssize_t n = PyList_GET_SIZE(list), side = self->places, dims = self->dims;
    const int64_t *D = self->durations;
    if (n > self->max_tasks[v])
        Py_RETURN_NONE;
    int64_t *job = PyMem_Malloc(sizeof(int64_t) * (n + 1));
    int64_t *at = PyMem_Malloc(sizeof(int64_t) * (n + 2));
    int64_t *dep = PyMem_Malloc(sizeof(int64_t) * (n + 1));
    int64_t *lat = PyMem_Malloc(sizeof(int64_t) * (n + 1));
    int64_t *leg = PyMem_Malloc(sizeof(int64_t) * (n + 1));
    int64_t *load = PyMem_Calloc(dims ? dims : 1, sizeof(int64_t));
    PyObject *places = NULL, *departs = NULL, *latest = NULL, *legs = NULL, *loads = NULL;
    if (!job || !at || !dep || !lat || !leg || !load) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        job[i] = PyLong_AsLongLong(PyList_GET_ITEM(list, i));
        if (job[i] == -1 && PyErr_Occurred())
            goto done;
        if (job[i] < 0 || job[i] >= self->jobs) {
            PyErr_SetString(PyExc_IndexError, "no such job");
            goto done;
        }
        for (Py_ssize_t d = 0; d < dims; d++)
            load[d] += self->demand[job[i] * dims + d];
    }
    if (self->has_capacity[v]) {
        for (Py_ssize_t d = 0; d < dims; d++) {
            if (load[d] > self->capacity[v * dims + d]) {
                result = Py_NewRef(Py_None);
                goto done;
            }
        }
    }
    at[0] = self->start[v];
    for (Py_ssize_t i = 0; i < n; i++)
        at[i + 1] = self->place[job[i]];
    at[n + 1] = self->end[v];
    int64_t travel = 0;
    for (Py_ssize_t i = 0; i <= n; i++) {
        leg[i] = D[at[i] * side + at[i + 1]];
        travel += leg[i];
    }
    if (travel > self->max_travel[v]) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    /* slack.Tables._forward */
    int64_t clock = self->opens[v];
    dep[0] = clock;
    for (Py_ssize_t i = 1; i <= n; i++) {
        Py_ssize_t p = job[i - 1];
        int64_t start;
        if (!start_at(self, p, clock + leg[i - 1], &start)) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        clock = start + (at[i] != at[i - 1] ? self->setup[p] : 0) + self->service[p];
        dep[i] = clock;
    }
    if (clock + leg[n] > self->closes[v]) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    /* slack.Tables._backward */
    int64_t leave = self->closes[v] - leg[n];
    for (Py_ssize_t i = n; i > 0; i--) {
        lat[i] = leave;
        Py_ssize_t p = job[i - 1];
        int64_t start = leave - self->service[p] - (at[i] != at[i - 1] ? self->setup[p] : 0);
        leave = latest_start_or_never(self, p, start) - leg[i - 1];
    }
    lat[0] = leave;
    if (!(places = int_list(at, n + 2)) || !(departs = int_list(dep, n + 1)) ||
        !(latest = int_list(lat, n + 1)) || !(legs = int_list(leg, n + 1)) ||
        !(loads = int_list(load, dims)))
        goto done;
    result = Py_BuildValue("(OOOOLO)", places, departs, latest, legs, (long long)travel, loads);
done:
    PyMem_Free(job);
    PyMem_Free(at);
    PyMem_Free(dep);
    PyMem_Free(lat);
    PyMem_Free(leg);
    PyMem_Free(load);
    Py_XDECREF(places);
    Py_XDECREF(departs);
    Py_XDECREF(latest);
    Py_XDECREF(legs);
    Py_XDECREF(loads);
    return result;
}

static PyMethodDef Kernel_methods[] = {
    {"cheapest", (PyCFunction)(void (*)(void))Kernel_cheapest, METH_FASTCALL,
     "cheapest(route, p, best_cost, budget, random, blink) -> (cost, k) or None"},
    {"best", (PyCFunction)(void (*)(void))Kernel_best, METH_FASTCALL,
     "best(routes, vehicles, p, random, blink, slow) -> (vehicle, k) or None"},
    {"relaxed", (PyCFunction)(void (*)(void))Kernel_relaxed, METH_FASTCALL,
     "relaxed(vehicle, jobs) -> (places, departs, latest, legs, travel, load) or None"},
    {"with_job", (PyCFunction)(void (*)(void))Kernel_with_job, METH_FASTCALL,
     "with_job(route, p, k) -> (jobs, places, departs, latest, load, travel, legs)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject KernelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "scheduler.optimizer._insertion.Kernel",
    .tp_doc = "The tables of one problem as C arrays, for the insertion loop.",
    .tp_basicsize = sizeof(Kernel),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Kernel_init,
    .tp_dealloc = (destructor)Kernel_dealloc,
    .tp_methods = Kernel_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_insertion",
    "Compiled insertion loop of ruin and recreate (see slack.Tables.python_cheapest).", -1,
    NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__insertion(void)
{
    if (PyType_Ready(&KernelType) < 0)
        return NULL;
    s_places = PyUnicode_InternFromString("places");
    s_departs = PyUnicode_InternFromString("departs");
    s_latest = PyUnicode_InternFromString("latest");
    s_legs = PyUnicode_InternFromString("legs");
    s_class_starts = PyUnicode_InternFromString("class_starts");
    s_jobs = PyUnicode_InternFromString("jobs");
    s_vehicle = PyUnicode_InternFromString("vehicle");
    s_travel = PyUnicode_InternFromString("travel");
    s_load = PyUnicode_InternFromString("load");
    if (!s_places || !s_departs || !s_latest || !s_legs || !s_class_starts || !s_jobs ||
        !s_vehicle || !s_travel || !s_load)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "KERNEL_VERSION", KERNEL_VERSION) < 0 ||
        PyModule_AddObjectRef(m, "Kernel", (PyObject *)&KernelType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
