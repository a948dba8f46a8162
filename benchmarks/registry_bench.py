"""Benchmark of the Commission's web app on a registry of 10,000 requests (issue 20).

``python -m benchmarks.registry_bench`` builds a SQLite registry in a temporary folder
(a synthetic assessment made by repeating and varying the eight hand-made requests of
``tests/small_assessment.py``, each copy with its own protocol, points, cost, district,
date and applicant; recorded once with :func:`geo_ip.registry.store.record_run`, the
applicants' data included, as ``geo-ip avaliar --db`` records it), starts the real
``geo-ip servir`` (uvicorn) in a child process, and lets simulated members of the
Commission use it at the same time, each in its own thread with its own
``httpx.Client`` and its own login (role ``membro``):

- they read the queue (``/fila``) with filters, orders and pages, open requests
  (``/pedidos/{id}``) and, now and then, the ranking (``/classificacao``);
- they save decisions on the criteria, as the page's form does: read the request's page
  for its version (``versao``) and CSRF token, then post. A 409 is a concurrent update
  correctly refused: the member reads the page again and saves again;
- members go in pairs that deliberately open the same request, wait for each other and
  save at the same moment (on different criteria): one of the two must be refused.

Each (request, criterion) is decided at most once, so every decision the server
answered as saved (303) must be current at the end. The check reads the database
after the server stopped: a saved decision that is not current
(:func:`geo_ip.registry.store.current_decisions`), has no audit event, or was accepted
on a request version another accepted save had also used (a lost update) counts as
**decisão perdida** (must be 0). The audit chain is verified too.

Printed (in Portuguese): p50, p95 and maximum latency per kind of page, the decisions
saved, the 409s, the lost decisions and the errors. Members read each page before the
next click, ``--pausa`` seconds on average (default 1 s, drawn between half and one and a
half times that, as load tools model a person's think time); ``--pausa 0`` makes them
click as soon as a page arrives, a stress test that keeps the server saturated.
Options: ``--pedidos N`` ``--usuarios U`` ``--decisoes D`` (a smaller smoke run),
``--sem-dados-pessoais`` (record the run without the applicants' data: the live ranking
does not check eligibility again), ``--semente``, ``--json``. Not a timed test: it
reports, it does not fail on the latency target (p95 ≤ 300 ms); it exits 1 when a
decision is lost or a request fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # tests/small_assessment.py, when run from elsewhere
    sys.path.insert(0, str(ROOT))

KEY = b"chave-lgpd-do-benchmark-32-bytes"
BUDGET = 2_000_000.0
CYCLE = "2026"
TARGET_P95_MS = 300.0
PASSWORD = "senha-do-benchmark-{:02d}"
DISTRICTS = 12
PAGE_KINDS = ("fila", "pedido", "classificacao")
LABELS = {
    "fila": "fila (GET /fila, filtros e páginas)",
    "pedido": "pedido (GET /pedidos/{id})",
    "classificacao": "classificação (GET /classificacao)",
    "paginas": "todas as páginas (GET)",
    "entrar": "entrada (POST /entrar)",
    "decisao": "decisão (POST /pedidos/{id}/decisao)",
}

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_VERSION = re.compile(r'name="versao" value="(\d+)"')
_LINK = re.compile(r'href="/pedidos/(\d+)"')


# --- the registry ------------------------------------------------------------------------------


def _cpf(n: int) -> str:
    """A valid CPF (check digits computed), different for each ``n`` below 10⁸."""
    digits = [int(c) for c in f"{100_000_000 + n:09d}"]
    for length in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(length + 1, 1, -1), strict=True))
        rest = total * 10 % 11
        digits.append(0 if rest == 10 else rest)
    text = "".join(map(str, digits))
    return f"{text[:3]}.{text[3:6]}.{text[6:9]}-{text[9:]}"


def synthetic_table(n: int, budget: float | None = BUDGET) -> tuple[pd.DataFrame, Any]:
    """The eight hand-made requests repeated and varied to ``n`` rows, then ranked.

    Copy ``k`` of the eight shifts their total by ``(7k mod 21) − 10`` points (clipped to
    0..100, spread over the criteria by their weights), multiplies their cost by
    ``1 + (k mod 10)/10``, and gets district ``k mod 12``, its own protocols
    (``PED-1-00042``), dates, places and applicants (valid, distinct CPFs).
    """
    from geo_ip.law import ranking
    from geo_ip.requests.cpf import cpf_hash
    from geo_ip.rules.law_locks import CRITERIA
    from tests.small_assessment import small_assessment

    assessment = small_assessment(budget=None)
    rules = assessment.rules
    base = assessment.table.drop(columns=[c for c in ranking.RANKING_COLUMNS
                                          if c in assessment.table.columns])  # fmt: skip
    repeats = -(-n // len(base))
    table = pd.concat([base] * repeats, ignore_index=True).iloc[:n].copy()
    i = np.arange(n)
    copy = i // len(base)
    total = (table["pontuacao_total"].to_numpy(float) + ((copy * 7) % 21 - 10)).clip(0, 100)
    for c in CRITERIA:
        weight = float(getattr(rules.criterios, c).peso.valor)
        table[f"pont_{c}"] = total * weight / 100
        table[f"sugerido_{c}"] = table[f"pont_{c}"]
    table["pontuacao_total"] = total
    table["custo_estimado_rs"] = table["custo_estimado_rs"] * (1 + (copy % 10) / 10)
    table["custo_por_beneficiario_rs"] = table["custo_estimado_rs"] / 10
    table["protocolo"] = [f"{p}-{k:05d}" for p, k in zip(table["protocolo"], copy, strict=True)]
    table["linha"] = i + 2
    table["data_protocolo"] = [date(2026, 1, 1) + timedelta(days=int(d % 300)) for d in i]
    table["bairro_encontrado"] = [f"Bairro {k % DISTRICTS + 1:02d}" for k in copy]
    table["logradouro_via"] = [f"Rua Sintética {k % 97 + 1}" for k in copy]
    table["latitude"] = -22.85 + (i % 100) * 1e-4
    table["longitude"] = -46.31 + (i // 100) * 1e-4
    table["x"] = 380_000.0 + 10.0 * (i % 100)
    table["y"] = 7_470_000.0 + 10.0 * (i // 100)
    table["cpf_solicitante"] = [_cpf(int(k)) for k in i]
    table["cpf_hash"] = [cpf_hash(c, KEY) for c in table["cpf_solicitante"]]
    table["nome_solicitante"] = [f"Requerente Sintético {k}" for k in i]
    table["problemas"] = ""
    table.loc[table["erro"].astype(bool), "problemas"] = "campo 'residencias': valor negativo (-2)"
    table["confirmar_no_local"] = ""
    table["distancia_rede_m"] = 50.0
    table["transformador"] = False
    return ranking.rank(table, rules, budget), rules


@dataclass
class Built:
    """The registry built for the benchmark."""

    url: str
    requests: dict[int, str]
    logins: list[str]
    seconds: float


def build_registry(folder: Path, n: int, users: int, *, personal: bool) -> Built:
    """Create the SQLite registry: the synthetic run recorded once, and the members."""
    from sqlalchemy import select

    from geo_ip.registry import store
    from geo_ip.registry.db import open_registry, sqlite_url
    from geo_ip.registry.models import Request
    from geo_ip.webapp.users import add_user

    start = time.perf_counter()
    table, rules = synthetic_table(n)
    url = sqlite_url(folder / "programa.sqlite")
    registry = open_registry(url)
    with registry.session() as session:
        version = store.ensure_rules(session, rules, "sistema:benchmark")
        cycle = store.ensure_cycle(session, CYCLE, "sistema:benchmark", budget=BUDGET,
                                   rules=version)  # fmt: skip
        store.record_run(
            session, table, cycle=cycle, rules=version, actor="sistema:benchmark",
            origin="benchmark", personal=personal,
            provenance={"versao_ferramenta": "benchmark", "data_referencia": "2026-11-01",
                        "orcamento_rs": BUDGET},
        )  # fmt: skip
    with registry.session() as session:
        requests = {rid: p for rid, p in session.execute(select(Request.id, Request.protocolo))}
    logins = [f"membro{u + 1:02d}" for u in range(users)]
    for u, login in enumerate(logins):
        add_user(registry, login, f"Membro Sintético {u + 1:02d}", "membro", PASSWORD.format(u))
    registry.dispose()
    return Built(url, requests, logins, time.perf_counter() - start)


# --- the server ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """``geo-ip servir`` in a child process (its log in a file of the temporary folder)."""

    def __init__(self, url: str, folder: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = folder / "servidor.log"
        command = [sys.executable, "-m", "geo_ip.cli.app", "serve", "--db", url,
                   "--porta", str(self.port),
                   "--segredo-arquivo", str(folder / "segredo")]  # fmt: skip
        with open(self.log, "wb") as out:
            self.child = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 180.0) -> None:
        """Wait until the login page answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.child.poll() is not None:
                raise SystemExit(f"o servidor terminou ao iniciar:\n{self.tail()}")
            try:
                if httpx.get(f"{self.base}/entrar", timeout=5.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"o servidor não respondeu em {timeout:g} s:\n{self.tail()}")

    def tail(self, size: int = 3000) -> str:
        """The end of the server's log."""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-size:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server (graceful shutdown, then kill)."""
        if self.child.poll() is None:
            self.child.send_signal(signal.SIGINT)
            try:
                self.child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait(timeout=20)


# --- the simulated members ----------------------------------------------------------------------


@dataclass
class Saved:
    """A decision the server answered as saved."""

    request_id: int
    criterion: str
    points: str
    motivation: str
    version: int
    login: str


@dataclass
class Shared:
    """What the members share: the quota, the (request, criterion) keys used, the results."""

    quota: int
    requests: list[int]
    duel_targets: list[int]
    lock: threading.Lock = field(default_factory=threading.Lock)
    reserved: int = 0
    used: set[tuple[int, str]] = field(default_factory=set)
    saved: list[Saved] = field(default_factory=list)
    conflicts: int = 0
    duels: int = 0
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)

    def reserve(self) -> bool:
        with self.lock:
            if self.reserved >= self.quota:
                return False
            self.reserved += 1
            return True

    def release(self) -> None:
        with self.lock:
            self.reserved -= 1

    def claim(self, request_id: int, criteria: list[str]) -> str | None:
        with self.lock:
            for c in criteria:
                if (request_id, c) not in self.used:
                    self.used.add((request_id, c))
                    return c
        return None

    def duel_target(self, pair: int, pairs: int, round_: int) -> int | None:
        """The request of a pair's duel round (each request in one duel only)."""
        mine = self.duel_targets[pair::pairs]
        return mine[round_] if round_ < len(mine) else None

    def time(self, kind: str, ms: float) -> None:
        with self.lock:
            self.timings[kind].append(ms)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


class Member(threading.Thread):
    """One simulated member of the Commission, with its own client and session."""

    def __init__(
        self,
        number: int,
        login: str,
        base: str,
        shared: Shared,
        partner: threading.Barrier | None,
        pairs: int,
        seed: int,
        pause: float = 0.0,
    ) -> None:
        super().__init__(name=login, daemon=True)
        self.number, self.login, self.shared, self.partner = number, login, shared, partner
        self.pairs, self.pause = pairs, pause
        self.client = httpx.Client(base_url=base, timeout=300.0)
        self.random = random.Random(seed * 1000 + number)
        from geo_ip.rules.config import load_rules
        from geo_ip.rules.law_locks import CRITERIA

        rules = load_rules("demo")
        self.criteria = list(CRITERIA)
        self.weights = {c: float(getattr(rules.criterios, c).peso.valor) for c in CRITERIA}

    # -- HTTP, timed

    def _think(self) -> None:
        """Read the page before the next click: ``pause`` seconds on average (0.5× to 1.5×)."""
        if self.pause > 0:
            time.sleep(self.random.uniform(0.5, 1.5) * self.pause)

    def _get(self, kind: str, url: str, **params: Any) -> httpx.Response:
        self._think()
        start = time.perf_counter()
        answer = self.client.get(url, params=params or None)
        self.shared.time(kind, (time.perf_counter() - start) * 1000)
        if answer.status_code != 200:
            self.shared.error(f"{self.login}: GET {url} {params} → HTTP {answer.status_code}")
        return answer

    def _post(
        self, kind: str, url: str, data: dict[str, str], *, think: bool = True
    ) -> httpx.Response:
        if think:
            self._think()
        start = time.perf_counter()
        answer = self.client.post(url, data=data)
        self.shared.time(kind, (time.perf_counter() - start) * 1000)
        return answer

    def login_now(self) -> None:
        page = self.client.get("/entrar")
        found = _CSRF.search(page.text)
        token = found.group(1) if found else ""
        answer = self._post("entrar", "/entrar", think=False, data={
            "login": self.login, "senha": PASSWORD.format(self.number), "csrf": token,
        })  # fmt: skip
        if answer.status_code != 303:
            raise RuntimeError(f"{self.login} não conseguiu entrar (HTTP {answer.status_code})")

    # -- reading

    def read_queue(self) -> list[int]:
        r = self.random
        params: dict[str, Any] = {}
        if r.random() < 0.4:
            params["bairro"] = f"Bairro {r.randrange(DISTRICTS) + 1:02d}"
        if r.random() < 0.3:
            params["situacao"] = r.choice(["avaliado", "decidido", "erro", "inelegivel"])
        if r.random() < 0.2:
            params["criterio"] = r.choice(self.criteria)
            params["decidido"] = r.choice(["sim", "nao"])
        if r.random() < 0.2:
            low = r.randrange(0, 80, 10)
            params["pontos_min"], params["pontos_max"] = low, low + 20
        if r.random() < 0.5:
            params["ordem"] = r.choice(["protocolo", "total", "data", "custo"])
            params["sentido"] = r.choice(["asc", "desc"])
        params["pagina"] = r.choice([1, 1, 2, 3, r.randrange(1, 30)])
        answer = self._get("fila", "/fila", **params)
        return [int(x) for x in _LINK.findall(answer.text)]

    # -- deciding

    def _points(self, criterion: str) -> str:
        steps = int(self.weights[criterion] * 2)
        return f"{self.random.randint(0, steps) / 2:g}"

    def decide(self, request_id: int, criterion: str, *, duel: bool = False) -> None:
        """Read the page, post the decision; on 409 read again and post again."""
        points = self._points(criterion)
        motivation = (f"Decisão simulada de {self.login} sobre {criterion} do pedido "
                      f"{request_id}: visita técnica e documentos conferidos.")  # fmt: skip
        for attempt in range(20):
            page = self._get("pedido", f"/pedidos/{request_id}")
            version, token = _VERSION.search(page.text), _CSRF.search(page.text)
            if page.status_code != 200 or version is None or token is None:
                self.shared.error(f"{self.login}: página do pedido {request_id} sem formulário")
                self.shared.release()
                return
            together = duel and attempt == 0 and self.partner is not None
            if together:
                # both members of the pair saw the same version: they read it, then save
                # together
                self._think()
                with contextlib.suppress(threading.BrokenBarrierError):
                    self.partner.wait(timeout=120)
            data = {"criterio": criterion, "pontos": points, "motivacao": motivation,
                    "versao": version.group(1), "csrf": token.group(1)}  # fmt: skip
            answer = self._post("decisao", f"/pedidos/{request_id}/decisao", data,
                                think=not together)  # fmt: skip
            if answer.status_code == 303:
                with self.shared.lock:
                    self.shared.saved.append(Saved(request_id, criterion, points, motivation,
                                                   int(version.group(1)), self.login))  # fmt: skip
                return
            if answer.status_code == 409:
                with self.shared.lock:
                    self.shared.conflicts += 1
                continue
            self.shared.error(f"{self.login}: POST decisão no pedido {request_id} → HTTP "
                              f"{answer.status_code}")  # fmt: skip
            self.shared.release()
            return
        self.shared.error(f"{self.login}: pedido {request_id} recusado 20 vezes seguidas")
        self.shared.release()

    def run(self) -> None:
        try:
            self.login_now()
            round_ = 0
            for iteration in range(10**6):
                if not self.shared.reserve():
                    break
                seen = self.read_queue()
                if seen:
                    self._get("pedido", f"/pedidos/{self.random.choice(seen)}")
                if iteration % 4 == 3:
                    self._get("classificacao", "/classificacao")
                pair, member = divmod(self.number, 2)
                target = self.shared.duel_target(pair, self.pairs, round_)
                if self.partner is not None and iteration % 3 == 0 and target is not None:
                    round_ += 1
                    with self.shared.lock:
                        self.shared.used.add((target, self.criteria[member]))
                        self.shared.duels += member == 0
                    self.decide(target, self.criteria[member], duel=True)
                    continue
                self._decide_somewhere(seen)
        except Exception as exc:  # reported, never silently lost
            self.shared.error(f"{self.login}: {type(exc).__name__}: {exc}")
        finally:
            if self.partner is not None:
                self.partner.abort()
            self.client.close()

    def _decide_somewhere(self, seen: list[int]) -> None:
        duel = set(self.shared.duel_targets)
        for _ in range(100):
            pool = seen if seen and self.random.random() < 0.7 else self.shared.requests
            request_id = self.random.choice(pool)
            if request_id in duel:
                continue
            criteria = self.random.sample(self.criteria, len(self.criteria))
            criterion = self.shared.claim(request_id, criteria)
            if criterion is not None:
                self.decide(request_id, criterion)
                return
        self.shared.error(f"{self.login}: nenhum pedido livre para decidir")
        self.shared.release()


# --- the check -----------------------------------------------------------------------------------


@dataclass
class Check:
    """What the database says after the run."""

    lost: int
    missing_events: int
    reused_versions: int
    chain_ok: bool
    current: int
    problems: list[str]


def check_registry(url: str, saved: list[Saved], requests: dict[int, str]) -> Check:
    """Compare what the server answered as saved with the registry's current state."""
    from sqlalchemy import select

    from geo_ip.registry import audit, store
    from geo_ip.registry.db import open_registry
    from geo_ip.registry.models import Event

    registry = open_registry(url, migrate=False)
    problems: list[str] = []
    with registry.session() as session:
        cycle = store.find_cycle(session, CYCLE)
        current = store.current_decisions(session, cycle)
        now: dict[tuple[str, str], dict[Any, Any]] = {
            (str(r["protocolo"]), str(r["criterio"])): r for r in current.to_dict("records")
        }
        events = Counter(
            str(after.get("motivacao", ""))
            for after in session.scalars(select(Event.depois).where(Event.acao == "decisao"))
        )
        chain = audit.verify(session)
    lost = missing_events = 0
    for s in saved:
        row = now.get((requests[s.request_id], s.criterion))
        if row is None or row["motivacao"] != s.motivation or row["pontos"] != float(s.points):
            lost += 1
            problems.append(f"decisão perdida: pedido {requests[s.request_id]}, {s.criterion}")
        if events[s.motivation] != 1:
            missing_events += 1
            problems.append(f"evento de auditoria ausente: {requests[s.request_id]}, {s.criterion}")
    versions = Counter((s.request_id, s.version) for s in saved)
    reused = sum(n - 1 for n in versions.values() if n > 1)
    if reused:
        problems.append(f"{reused} decisão(ões) aceitas sobre uma versão já usada")
    if not chain.ok:
        problems += chain.problems[:5]
    registry.dispose()
    return Check(lost + reused, missing_events, reused, chain.ok, len(current), problems)


# --- report ------------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def _thousands(n: float) -> str:
    return f"{n:,.0f}".replace(",", ".")


def summary(timings: dict[str, list[float]]) -> list[dict[str, Any]]:
    """Latency per kind: count, p50, p95 and maximum (ms)."""
    pages = [ms for kind in PAGE_KINDS for ms in timings.get(kind, [])]
    rows = []
    for kind, values in [*((k, timings.get(k, [])) for k in PAGE_KINDS), ("paginas", pages),
                         ("entrar", timings.get("entrar", [])),
                         ("decisao", timings.get("decisao", []))]:  # fmt: skip
        if values:
            rows.append({"tipo": kind, "n": len(values), "p50_ms": _percentile(values, 50),
                         "p95_ms": _percentile(values, 95), "max_ms": max(values),
                         "media_ms": statistics.fmean(values)})  # fmt: skip
    return rows


def print_report(opts: argparse.Namespace, built: Built, shared: Shared, check: Check,
                 rows: list[dict[str, Any]], seconds: float,
                 load: tuple[float, float]) -> None:  # fmt: skip
    personal = "sem" if opts.sem_dados_pessoais else "com"
    print(f"Registro SQLite de {_thousands(len(built.requests))} pedidos ({personal} dados "
          f"pessoais), montado em {built.seconds:.1f} s; {len(built.logins)} membros "
          f"simultâneos; {os.cpu_count()} núcleos; {seconds:.1f} s de uso simulado.")  # fmt: skip
    pause = (f"{opts.pausa:g} s de leitura em média antes de cada clique" if opts.pausa
             else "sem pausa entre cliques (estresse)")  # fmt: skip
    print(f"Membros: {pause}.")
    busy = max(load) > (os.cpu_count() or 1)
    print(
        f"Carga média do computador (1 min) no início e no fim: {load[0]:.1f} e {load[1]:.1f}"
        + (" (acima do número de núcleos: outros processos disputaram a CPU)." if busy else ".")
    )
    print()
    print(f"{'tipo de página':<42} {'pedidos':>8} {'p50 (ms)':>9} {'p95 (ms)':>9} "
          f"{'máx (ms)':>9}")  # fmt: skip
    for r in rows:
        print(f"{LABELS[r['tipo']]:<42} {r['n']:>8} {r['p50_ms']:>9.0f} {r['p95_ms']:>9.0f} "
              f"{r['max_ms']:>9.0f}")  # fmt: skip
    print()
    print(f"decisões gravadas: {len(shared.saved)} (de {opts.decisoes} pedidas)")
    print(f"duelos (dois membros salvando o mesmo pedido ao mesmo tempo): {shared.duels}")
    print(f"recusas por edição simultânea (409), regravadas após reler a página: "
          f"{shared.conflicts}")  # fmt: skip
    print(f"decisões perdidas: {check.lost}")
    print(f"eventos de auditoria faltando: {check.missing_events}")
    print(f"cadeia de auditoria íntegra: {'sim' if check.chain_ok else 'NÃO'}")
    print(f"erros (respostas inesperadas): {len(shared.errors)}")
    for line in (shared.errors + check.problems)[:10]:
        print(f"  - {line}")
    pages = next((r for r in rows if r["tipo"] == "paginas"), None)
    if pages is not None:
        met = "atingida" if pages["p95_ms"] <= TARGET_P95_MS else "NÃO atingida"
        print(f"meta p95 das páginas ≤ {TARGET_P95_MS:.0f} ms: {pages['p95_ms']:.0f} ms — {met}")


def run(opts: argparse.Namespace) -> int:
    """Build, serve, simulate, check and report."""
    with tempfile.TemporaryDirectory(prefix="geo_ip_bench_registro_") as tmp:
        folder = Path(tmp)
        print(f"Montando o registro de {_thousands(opts.pedidos)} pedidos…", flush=True)
        built = build_registry(folder, opts.pedidos, opts.usuarios,
                               personal=not opts.sem_dados_pessoais)  # fmt: skip
        ids = sorted(built.requests)
        rng = random.Random(opts.semente)
        duel_targets = rng.sample(ids, min(len(ids) // 4, opts.decisoes))
        shared = Shared(opts.decisoes, ids, duel_targets)
        server = Server(built.url, folder)
        try:
            server.wait()
            pairs = [threading.Barrier(2) for _ in range(opts.usuarios // 2)]
            members = [
                Member(u, login, server.base, shared,
                       pairs[u // 2] if u // 2 < len(pairs) and opts.duelos else None,
                       max(1, len(pairs)), opts.semente, opts.pausa)
                for u, login in enumerate(built.logins)
            ]  # fmt: skip
            print(f"Servidor em {server.base}; {len(members)} membros usando…", flush=True)
            start, load_start = time.perf_counter(), os.getloadavg()[0]
            for m in members:
                m.start()
            for m in members:
                m.join()
            seconds, load = time.perf_counter() - start, (load_start, os.getloadavg()[0])
        finally:
            server.stop()
        check = check_registry(built.url, shared.saved, built.requests)
        rows = summary(shared.timings)
        print_report(opts, built, shared, check, rows, seconds, load)
        if opts.json:
            payload = {
                "pedidos": opts.pedidos, "usuarios": opts.usuarios, "pausa_s": opts.pausa,
                "decisoes_pedidas":
                opts.decisoes, "dados_pessoais": not opts.sem_dados_pessoais,
                "nucleos": os.cpu_count(), "carga_media": load, "segundos": seconds,
                "latencias": rows,
                "gravadas": len(shared.saved), "recusas_409": shared.conflicts,
                "duelos": shared.duels, "perdidas": check.lost,
                "eventos_faltando": check.missing_events, "cadeia_ok": check.chain_ok,
                "erros": shared.errors[:50], "problemas": check.problems[:50],
            }  # fmt: skip
            opts.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
        failed = check.lost or check.missing_events or shared.errors or not check.chain_ok
        if shared.errors or check.problems:
            print(f"(log do servidor, fim)\n{server.tail()}")
        return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.registry_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pedidos", type=int, default=10_000, help="pedidos no registro")
    parser.add_argument("--usuarios", type=int, default=10, help="membros simultâneos")
    parser.add_argument("--decisoes", type=int, default=200, help="decisões a gravar no total")
    parser.add_argument("--sem-dados-pessoais", action="store_true",
                        help="registrar a avaliação sem os dados dos requerentes")  # fmt: skip
    parser.add_argument(
        "--sem-duelos",
        dest="duelos",
        action="store_false",
        help="sem pares de membros salvando o mesmo pedido ao mesmo tempo",
    )
    parser.add_argument(
        "--pausa",
        type=float,
        default=1.0,
        help="segundos de leitura antes de cada clique, em média (0,5× a 1,5×); "
        "0: sem pausa, cada membro clica assim que a página chega (teste de estresse)",
    )
    parser.add_argument("--semente", type=int, default=20, help="semente do sorteio")
    parser.add_argument("--json", type=Path, help="gravar os resultados neste arquivo JSON")
    opts = parser.parse_args(argv)
    if opts.pedidos < 8 or opts.usuarios < 1 or opts.decisoes < 1 or not 0 <= opts.pausa <= 60:
        parser.error("use --pedidos ≥ 8, --usuarios ≥ 1, --decisoes ≥ 1 e --pausa de 0 a 60")
    return run(opts)


if __name__ == "__main__":
    raise SystemExit(main())
