"""信息收集与发布制度 + 政务村务公开制度: information release and disclosure."""

from pathlib import Path

from core import hookimpl
from core.contract import PluginInfo

__version__ = "0.1.0"


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key="releases",
        name="信息发布与公开",
        name_en="Information release",
        version=__version__,
        description="Collected information, products, a scheduled monthly release, "
        "the disclosure board and citizens' topic requests.",
        migrations=Path(__file__).parent / "migrations" / "versions",
    )


@hookimpl
def township_models():
    from plugins.releases.models import MODELS

    return MODELS
