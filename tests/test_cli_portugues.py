"""The command line speaks Portuguese: help, usage errors, option names (issue 21, items 7-8)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from geo_ip.cli.app import app
from geo_ip.cli.portugues import RENAMED, portuguese_error

runner = CliRunner()

ENGLISH = (
    "Usage",
    "Options",
    "Arguments",
    "Commands",
    "Show this message",
    "No such option",
    "No such command",
    "Invalid value",
    "Missing option",
    "Missing argument",
    "Missing parameter",
    "Error",
    "Try '",
    "for help",
    "Input should",
    "unable to parse",
    "Did you mean",
    "Got unexpected",
    "requires an argument",
    "<bool>",
    "<path>",
    "<str>",
    "<float>",
    "<int>",
    "FLOAT",
    "TEXT",
    "PATH",
    "INTEGER",
    "[required]",
    "[default:",
    "{pedidos}",
    "range>",
)


def _english(text: str) -> list[str]:
    return [word for word in ENGLISH if word in text]


def _flat(text: str) -> str:
    """The output's words in one line, without the panels' borders."""
    return " ".join(text.replace("│", " ").split())


def _command_paths() -> list[list[str]]:
    """Every command and group of geo-ip, as the words that call it."""
    root = typer.main.get_command(app)
    paths: list[list[str]] = [[]]

    def walk(group: object, prefix: list[str]) -> None:
        for name, command in getattr(group, "commands", {}).items():
            paths.append([*prefix, name])
            walk(command, [*prefix, name])

    walk(root, [])
    return paths


def test_main_help_is_portuguese() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    out = result.output
    assert "Uso: geo-ip [OPÇÕES] COMANDO [ARGUMENTOS]..." in out
    assert "─ Opções ─" in out and "─ Comandos ─" in out
    assert "Mostra esta ajuda e sai." in out
    assert "--detalhado" in out and "--silencioso" in out and "--versao" in out
    assert _english(out) == []


def test_every_command_help_is_portuguese() -> None:
    paths = _command_paths()
    # every command of the README is there
    assert ["avaliar"] in paths and ["cadastro", "auditar"] in paths
    assert ["registro", "envio"] in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        out = result.output
        assert "Uso: geo-ip " in out, path
        assert "─ Opções ─" in out and "Mostra esta ajuda e sai." in out, path
        assert _english(out) == [], (path, _english(out))
        # the old names are aliases hidden from the help
        for old in RENAMED:
            assert not re.search(rf"(?<![\w-]){re.escape(old)}(?![\w-])", out), (path, old)


def test_argument_help_and_type_labels() -> None:
    out = runner.invoke(app, ["pedidos", "conferir", "--help"]).output
    assert "Uso: geo-ip pedidos conferir [OPÇÕES] PEDIDOS" in out
    assert "─ Argumentos ─" in out and "[obrigatório]" in out
    assert "<caminho>" in out and "[padrão: extrema]" in out
    out = runner.invoke(app, ["avaliar", "--help"]).output
    assert "<número>" in out and "<texto>" in out
    # a flag shows no type at all
    assert re.search(r"--sem-mapas\s+Não grava os mapas", out)
    out = runner.invoke(app, ["servir", "--help"]).output
    assert "<inteiro> [1<=x<=65535]" in out


def test_unknown_option() -> None:
    result = runner.invoke(app, ["avaliar", "--orcamentoo", "3"])
    assert result.exit_code == 2
    out = _flat(result.output)
    assert "Uso: geo-ip avaliar [OPÇÕES]" in out
    assert "Veja 'geo-ip avaliar --help' para ajuda." in out
    assert "Erro" in out
    assert "Opção desconhecida: --orcamentoo. Você quis dizer --orcamento?" in out
    assert _english(result.output) == []


def test_bad_number() -> None:
    args = ["avaliar", "--territorio", "t.gpkg", "--pedidos", "p.csv", "--saida", "x"]
    result = runner.invoke(app, [*args, "--orcamento", "abc"])
    assert result.exit_code == 2
    assert "Valor inválido para '--orcamento': 'abc' não é um número." in _flat(result.output)
    assert _english(result.output) == []
    result = runner.invoke(app, ["registro", "envio", "--envio", "0", "--protocolo", "1"])
    assert result.exit_code == 2
    assert "Valor inválido para '--envio': '0' precisa ser no mínimo 1." in _flat(result.output)
    result = runner.invoke(app, ["servir", "--porta", "sete"])
    assert "Valor inválido para '--porta': 'sete' não é um número inteiro." in _flat(result.output)


def test_missing_option_and_argument() -> None:
    result = runner.invoke(app, ["avaliar", "--territorio", "t.gpkg", "--pedidos", "p.csv"])
    assert result.exit_code == 2
    assert "Falta a opção obrigatória '--saida' / '-o'." in _flat(result.output)
    assert _english(result.output) == []
    result = runner.invoke(app, ["pedidos", "conferir"])
    assert result.exit_code == 2
    assert "Falta o argumento obrigatório PEDIDOS." in _flat(result.output)
    result = runner.invoke(app, ["cadastro", "auditar", "--saida"])
    assert result.exit_code == 2
    assert "A opção --saida precisa de um valor." in _flat(result.output)
    assert _english(result.output) == []


def test_unknown_command_and_extra_arguments() -> None:
    result = runner.invoke(app, ["avaliarr"])
    assert result.exit_code == 2
    assert "Comando desconhecido: 'avaliarr'. Você quis dizer 'avaliar'?" in _flat(result.output)
    args = ["regras", "criar", "--ibge", "1", "--nome", "x", "--uf", "RS", "a"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "Argumento(s) a mais, não esperado(s): a." in _flat(result.output)
    assert _english(result.output) == []


def test_old_option_names_still_work(tmp_path: Path) -> None:
    out = tmp_path / "regras.toml"
    result = runner.invoke(
        app, ["regras", "criar", "--ibge", "4314902", "--nome", "Porto Alegre", "--uf", "RS",
              "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.is_file() and "codigo_ibge = 4314902" in out.read_text(encoding="utf-8")
    note = (
        "Nota: a opção --out agora se chama --saida; o nome antigo deixa de valer na próxima "
        "versão."
    )
    assert note in _flat(result.stderr)
    assert note not in result.stdout
    # the --name=value form too, and the new name prints no note
    other = tmp_path / "outra.toml"
    result = runner.invoke(
        app, ["regras", "criar", "--ibge", "4314902", "--nome", "Porto Alegre", "--uf", "RS",
              f"--out={other}"],
    )  # fmt: skip
    assert result.exit_code == 0 and other.is_file()
    result = runner.invoke(
        app, ["regras", "criar", "--ibge", "4314902", "--nome", "Porto Alegre", "--uf", "RS",
              "--saida", str(tmp_path / "nova.toml")],
    )  # fmt: skip
    assert result.exit_code == 0 and "Nota:" not in result.output
    # absent from the help
    help_text = runner.invoke(app, ["regras", "criar", "--help"]).output
    assert "--saida" in help_text and not re.search(r"--out\b", help_text)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (["assess"], "avaliar"),
        (["territory"], "territorio"),
        (["geocode"], "geocodificar"),
        (["serve"], "servir"),
        (["requests", "check"], "pedidos conferir"),
        (["cadastre", "audit"], "cadastro auditar"),
        (["rules", "init"], "regras criar"),
        (["registry", "import"], "registro importar"),
        (["registry", "export"], "registro exportar"),
        (["registry", "verify"], "registro conferir"),
        (["users", "add"], "usuarios adicionar"),
        (["registro", "verify"], "registro conferir"),
    ],
)
def test_old_command_names_still_work(old: list[str], new: str) -> None:
    result = runner.invoke(app, [*old, "--help"])
    assert result.exit_code == 0, result.output
    # the usage line gives today's name, and a note on standard error the old one's
    assert f"Uso: geo-ip {new} [OPÇÕES]" in result.stdout
    notes = [line for line in _flat(result.stderr).split("Nota: ") if line]
    renamed = [(o, n) for o, n in zip(old, new.split(), strict=True) if o != n]
    assert notes == [
        f"o comando {o} agora se chama {n}; o nome antigo deixa de valer na próxima versão. "
        for o, n in renamed
    ] or [n.strip() for n in notes] == [
        f"o comando {o} agora se chama {n}; o nome antigo deixa de valer na próxima versão."
        for o, n in renamed
    ]


def test_old_command_names_are_hidden_and_only_in_their_group() -> None:
    out = runner.invoke(app, ["--help"]).stdout
    for old in ("territory", "geocode", "assess", "serve", "requests", "cadastre", "rules",
                "registry", "users"):  # fmt: skip
        assert not re.search(rf"│ {old}\b", out), old
    assert "│ avaliar " in out and "│ registro " in out
    # "check" was a name in "requests" only: in "registro" it is unknown
    result = runner.invoke(app, ["registro", "check"])
    assert result.exit_code == 2
    assert "Comando desconhecido: 'check'." in _flat(result.output)
    # a new name never prints a note
    result = runner.invoke(app, ["registro", "conferir", "--help"])
    assert result.exit_code == 0 and "Nota:" not in result.output


def test_old_names_of_the_main_app() -> None:
    import geo_ip

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"geo_ip {geo_ip.__version__}"
    result = runner.invoke(app, ["--versao"])
    assert result.stdout.strip() == f"geo_ip {geo_ip.__version__}"


@pytest.mark.parametrize(
    ("command", "old", "new"),
    [
        (["cip"], "--rules-cip", "--cip-regras"),
        (["cip"], "--municipio-ibge", "--ibge"),
        (["cip"], "--tarifas", "--cip-tarifas"),
        (["cadastro", "auditar"], "--inventory", "--inventario"),
        (["registro", "obras"], "--arquivo", "--obras"),
        (["geocodificar"], "--input", "--pedidos"),
        (["servir"], "--host", "--endereco"),
    ],
)
def test_one_name_per_concept(command: list[str], old: str, new: str) -> None:
    out = runner.invoke(app, [*command, "--help"]).output
    assert re.search(rf"(?<![\w-]){re.escape(new)}(?![\w-])", out)
    assert RENAMED[old] == new


def test_an_old_name_is_not_taken_where_the_new_one_is_missing() -> None:
    # --tarifas is an old name of cip's --cip-tarifas only: cadastre has --tarifa
    result = runner.invoke(app, ["cadastro", "auditar", "--tarifas", "1"])
    assert result.exit_code == 2
    assert "Opção desconhecida: --tarifas." in _flat(result.output)


def test_portuguese_error_leaves_other_errors() -> None:
    assert portuguese_error(ValueError("x")) is None


# --- the terminal (issue 21, item 11) ------------------------------------------------------


def test_demo_fails_on_the_output_before_building(tmp_path: Path) -> None:
    a_file = tmp_path / "passwd"
    a_file.write_text("root:x:0:0\n", encoding="utf-8")
    for out in (a_file, a_file / "saida"):
        result = runner.invoke(app, ["demo", "--saida", str(out)])
        assert result.exit_code == 3, result.output
        flat = _flat(result.output)
        assert f"Erro: arquivo '{out}', campo '--saida':" in flat
        # nothing was built: the demo's first line is not even printed
        assert "Município de Demonstração" not in flat
    assert a_file.read_text(encoding="utf-8") == "root:x:0:0\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["passwd"]


def test_failed_assess_leaves_no_folder_and_no_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geo_ip.requests.cpf import KEY_ENV

    monkeypatch.delenv(KEY_ENV, raising=False)
    requests = tmp_path / "pedidos.csv"
    requests.write_text("protocolo\nPED-1\n", encoding="utf-8")
    out = tmp_path / "nova" / "avaliacao"
    result = runner.invoke(
        app, ["avaliar", "--territorio", str(tmp_path / "nao_existe.gpkg"), "--pedidos",
              str(requests), "--saida", str(out), "--regras", "demo"],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "Erro:" in result.output
    assert "chave LGPD nova" not in result.output
    assert not (tmp_path / "nova").exists()
    # an output that is a file fails before anything is read
    result = runner.invoke(
        app, ["avaliar", "--territorio", str(tmp_path / "nao_existe.gpkg"), "--pedidos",
              str(requests), "--saida", str(requests)],
    )  # fmt: skip
    assert result.exit_code == 3
    assert "a saída precisa ser uma pasta" in _flat(result.output)


def test_password_typed_twice_differs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEO_IP_SENHA", raising=False)
    db = f"sqlite:///{tmp_path / 'programa.sqlite'}"
    result = runner.invoke(
        app, ["usuarios", "adicionar", "--db", db, "--login", "ana", "--nome", "Ana",
              "--papel", "membro"],
        input="senha-da-ana-1\nsenha-da-ana-2\n",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Erro: as duas senhas digitadas são diferentes; nada foi cadastrado" in result.output
    assert _english(result.output) == [] and "senha-da-ana" not in result.output


def test_money_in_the_terminal_is_brazilian() -> None:
    from geo_ip.cli.assess import cip_lines

    text = cip_lines({"arrecadacao_cip_anual_rs": 147354.46, "folga_anual_rs": -1234.5})
    assert "Arrecadação anual da CIP: R$ 147.354,46" in text
    assert "-R$ 1.234,50" in text or "R$ -1.234,50" in text
    assert "147354" not in text and "(R$)" not in text
