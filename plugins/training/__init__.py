"""学习培训制度: training records."""

from core import hookimpl
from core.contract import PluginInfo

__version__ = "0.1.0"


@hookimpl
def township_plugin_info():
    return PluginInfo(
        key="training", name="学习培训", name_en="Training records", version=__version__
    )
