"""The BDGD's consumer units split by municipality on a 2-worker Dask cluster (issue 23)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
from shapely.geometry import Point

from geo_ip.batch.bdgd import bdgd_municipalities, consumers_of, partition_consumers
from geo_ip.cadastre import audit_inputs
from geo_ip.cadastre.audit_inputs import read_utility_cadastre
from geo_ip.cip.engine import compute_cip
from geo_ip.errors import InputFileError
from tests.conftest import BDGD_ZIP, require

distributed = pytest.importorskip("distributed")

A, B, C = 4300001, 4300002, 4300003
TARIFF = {"residencial": 1.0, "comercial": 2.0, "rural": 0.5, "industrial": 3.0,
          "poder_publico": 4.0, "servico_publico": 5.0, "consumo_proprio": 6.0}  # fmt: skip


def _unit(cod: str, cls: str, mun: object, kwh: list[float], dat: str = "01/01/2010",
          sit: str = "AT") -> dict[str, object]:  # fmt: skip
    row: dict[str, object] = {"COD_ID": cod, "CLAS_SUB": cls, "MUN": mun, "SIT_ATIV": sit,
                              "DAT_CON": dat}  # fmt: skip
    row.update({f"ENE_{m:02d}": float(v) for m, v in enumerate(kwh, start=1)})
    return row


HALF = [100.0] * 6 + [0.0] * 6
ROWS = [  # BDGD order; A: 8 rows, B: 5, C: 3, 1 without MUN
    _unit("U1", "RE1", "4300001", [100] * 12),  # residential: 1200 kWh
    _unit("V1", "RE1", "4300002", [100] * 12),
    _unit("U2", "CO1", "4300001", [200] * 12),  # commercial: 2400 kWh
    _unit("U5", "RE1", "4300001", HALF),  # one unit, two records, across two slices:
    _unit("U5", "RE1", "4300001", HALF[::-1]),  # joined month by month, 1200 kWh
    _unit("W1", "RE1", "4300003", [100] * 12),
    _unit("U3", "RE1", "4300001", [40] * 12),  # exempt (<= 50 kWh/month in Colorado)
    _unit("V2", "RE1", "4300002", [100] * 12),
    _unit("X1", "RE1", None, [100] * 12),  # no MUN: in no file
    _unit("U4", "IP", "4300001", [500] * 12),  # public lighting: not a payer
    _unit("V3", "RE1", "4300002", [100] * 12),
    _unit("W2", "RE1", "4300003", [100] * 12),
    _unit("U6", "RE1", "4300001", HALF[::-1], dat="15/07/2024"),  # connected in July: 600
    _unit("V4", "RE1", "4300002", [100] * 12),
    _unit("W3", "CO1", "4300003", [100] * 12),
    _unit("U7", "CO1", "4300001.0", [50] * 12, sit="DS"),  # switched off; 600 kWh
    _unit("V5", "RE1", "4300002", [100] * 12),
]
CIP_A = 0.10 * (1.0 * (1200 + 1200 + 600) + 2.0 * (2400 + 600))  # R$ 900,00
CIP_B = 0.10 * 1.0 * 5 * 1200  # R$ 600,00


def _write_bdgd(path: Path, rows: list[dict[str, object]], pip_mun: list[str]) -> Path:
    pyogrio.write_dataframe(pd.DataFrame(rows), path, layer="UCBT_tab", driver="GPKG")
    if pip_mun:
        poles = gpd.GeoDataFrame(
            {"COD_ID": [f"P{i}" for i in range(len(pip_mun))]},
            geometry=[Point(-51.99 + i / 1000, -28.06) for i in range(len(pip_mun))],
            crs="EPSG:4674",
        )
        pyogrio.write_dataframe(poles, path, layer="PONNOT", driver="GPKG")
        pip = pd.DataFrame({"COD_ID": [f"IP{i}" for i in range(len(pip_mun))],
                            "PN_CON": list(poles["COD_ID"]), "POT_LAMP": 100.0,
                            "TIPO_LAMP": "VS", "MUN": pip_mun})  # fmt: skip
        for m in range(1, 13):
            pip[f"ENE_{m:02d}"] = 36.0
        pyogrio.write_dataframe(pip, path, layer="PIP", driver="GPKG")
    return path


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    with (
        distributed.LocalCluster(  # no dashboard; its HTTP server on a free port, not 8787
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": ":0"},
        ) as cluster,
        distributed.Client(cluster) as dask_client,
    ):
        yield dask_client


@pytest.fixture
def bdgd(tmp_path: Path) -> Path:
    return _write_bdgd(tmp_path / "Dist_2024-12-31.gpkg", ROWS, ["4300001", "4300001", "4300003"])


def _rules(tmp_path: Path, rate: float) -> Path:
    path = tmp_path / "colorado_usuario.toml"
    path.write_text(
        'herda = "colorado"\n'
        f'aliquota = {{ valor = {rate}, unidade = "%", fonte = "lei de teste, art. 1" }}\n',
        encoding="utf-8",
    )
    return path


def _tariffs(tmp_path: Path) -> Path:
    lines = ['versao = "teste"', 'distribuidora = "teste"', 'resolucao_aneel = "teste"',
             "[tarifas]", *(f'{c} = {{ valor = {v}, unidade = "R$/kWh", fonte = "teste" }}'
                            for c, v in TARIFF.items()),
             'iluminacao_publica = { valor = 0.5, unidade = "R$/kWh", fonte = "teste" }',
             ]  # fmt: skip
    path = tmp_path / "tarifas.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_municipalities_are_counted_from_mun(bdgd: Path, tmp_path: Path) -> None:
    other = _write_bdgd(
        tmp_path / "Outra_2024-12-31.gpkg", [_unit("Z1", "RE1", "4300002", [1] * 12)], []
    )
    table = bdgd_municipalities([bdgd, other])
    assert table.to_dict("list") == {
        "codigo_ibge": [A, B, C],
        "unidades_consumidoras": [8, 6, 3],
        "pontos_ip": [2, 0, 1],
    }
    assert [str(t) for t in table.dtypes] == ["int64", "int64", "int64"]


def test_partition_on_two_workers(bdgd: Path, tmp_path: Path, client: object) -> None:
    out = tmp_path / "consumidores"
    (out).mkdir()
    (out / f"{C}.parquet").write_bytes(b"left by an earlier run")
    files = partition_consumers([bdgd], [A, B, C + 100], out, client, rows_per_partition=4)
    assert files == {A: out / f"{A}.parquet", B: out / f"{B}.parquet"}  # 5 slices of 4 rows
    assert sorted(p.name for p in out.iterdir()) == [f"{A}.parquet", f"{B}.parquet", f"{C}.parquet"]
    a = pq.read_table(files[A]).to_pandas()
    assert a["linha"].tolist() == [1, 3, 4, 5, 7, 10, 13, 16]  # the BDGD's record numbers
    assert pq.read_table(files[B]).num_rows == 5
    assert a["MUN"].tolist()[-1] == "4300001.0"
    ids = set(a["COD_ID"])
    assert len(ids) == 7 and not ids & {r["COD_ID"] for r in ROWS}  # hashed, U5 twice
    rules, tariffs = _rules(tmp_path, 10.0), _tariffs(tmp_path)
    for code, expected in ((A, CIP_A), (B, CIP_B)):
        split = compute_cip(rules, consumers_of(files[code], code), tariffs)
        direct = compute_cip(rules, bdgd, tariffs, municipio_ibge=code)
        assert split.total_rs == pytest.approx(expected, abs=1e-9)
        assert direct.total_rs == split.total_rs
        pd.testing.assert_frame_equal(split.by_class, direct.by_class)
        assert split.provenance["entrada"] == direct.provenance["entrada"]
    year = compute_cip(rules, consumers_of(files[A], A), tariffs).by_class.set_index("classe")
    assert year.at["total", "unidades_consumidoras"] == 6  # U1 U2 U3 U5 U6 U7
    reading = compute_cip(rules, consumers_of(files[A], A), tariffs).reading
    assert dict(zip(reading["situacao"], reading["exemplos_linhas"], strict=True)) == {
        "aproveitada": "", "nao_contribuinte": "10"}  # fmt: skip
    with pytest.raises(InputFileError, match="do município 4300001, não de 4300002"):
        consumers_of(files[A], B)


def test_several_bdgds_and_the_default_scheduler(bdgd: Path, tmp_path: Path) -> None:
    other = _write_bdgd(
        tmp_path / "Outra_2024-12-31.gpkg", [_unit("U1", "RE1", "4300002", [100] * 12)] * 2, []
    )
    files = partition_consumers([bdgd, other], [B], tmp_path / "c", rows_per_partition=100)
    table = pq.read_table(files[B]).to_pandas()
    assert table["bdgd"].tolist() == [0] * 5 + [1] * 2
    assert table["linha"].tolist() == [2, 8, 11, 14, 17, 1, 2]
    consumers = consumers_of(files[B], B)
    assert consumers.descricao == (
        "BDGD Dist_2024-12-31.gpkg, tabela UCBT_tab + BDGD Outra_2024-12-31.gpkg, tabela UCBT_tab"
    )
    result = compute_cip(_rules(tmp_path, 10.0), consumers, _tariffs(tmp_path))
    assert result.total_rs == pytest.approx(CIP_B + 120.0, abs=1e-9)  # the copy is rejected
    assert dict(zip(result.reading["situacao"], result.reading["linhas"], strict=True)) == {
        "aproveitada": 6, "rejeitada": 1}  # fmt: skip


def test_bad_bdgd_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "Dist_2024-12-31.gpkg"
    pyogrio.write_dataframe(pd.DataFrame([{"CLAS_SUB": "RE1", "MUN": "4300001"}]), bad,
                            layer="UCBT_tab", driver="GPKG")  # fmt: skip
    with pytest.raises(InputFileError, match="sem o campo ENE_01"):
        partition_consumers([bad], [A], tmp_path / "c")
    with pytest.raises(InputFileError, match="não encontrada"):
        bdgd_municipalities([tmp_path / "nada.gdb.zip"])


def test_utility_cadastre_is_read_once_per_file(bdgd: Path) -> None:
    first, _ = read_utility_cadastre(bdgd, ibge=A)
    assert audit_inputs._read_pip_once(bdgd)[0] is audit_inputs._read_pip_once(bdgd)[0]
    points, _ = read_utility_cadastre(bdgd, ibge=C)
    assert (len(first), len(points)) == (2, 1)
    again, _ = read_utility_cadastre(bdgd, ibge=A)
    pd.testing.assert_frame_equal(pd.DataFrame(again), pd.DataFrame(first))
    stat = bdgd.stat()
    bdgd.unlink()
    _write_bdgd(bdgd, ROWS, ["4300001"] * 3)  # the file changes: read again
    os.utime(bdgd, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert len(read_utility_cadastre(bdgd, ibge=A)[0]) == 3


@pytest.mark.slow
def test_real_bdgd_on_two_workers(tmp_path: Path, client: object) -> None:
    zip_path = require(BDGD_ZIP)
    codes = [4320909, 4309803]
    started = time.perf_counter()
    files = partition_consumers([zip_path], codes, tmp_path / "c", client, rows_per_partition=5000)
    print(f"partition_consumers: {time.perf_counter() - started:.2f} s")
    assert sorted(files) == sorted(codes)
    counts = bdgd_municipalities([zip_path]).set_index("codigo_ibge")
    assert counts.to_dict("index") == {
        4309803: {"unidades_consumidoras": 1_799, "pontos_ip": 611},
        4320909: {"unidades_consumidoras": 11_501, "pontos_ip": 2_870},
    }
    rules = _rules(tmp_path, 5.0)
    for code in codes:
        assert pq.read_table(files[code]).num_rows == counts.at[code, "unidades_consumidoras"]
        split = compute_cip(rules, consumers_of(files[code], code), "tarifas_exemplo")
        direct = compute_cip(rules, zip_path, "tarifas_exemplo", municipio_ibge=code)
        assert split.total_rs == direct.total_rs > 0
        pd.testing.assert_frame_equal(split.by_class, direct.by_class)
        assert split.provenance["entrada"] == direct.provenance["entrada"]
        points, _ = read_utility_cadastre(zip_path, ibge=code)
        assert len(points) == counts.at[code, "pontos_ip"]
