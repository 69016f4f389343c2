"""The back-end services of 通販CRM, one package each, plus the shared infrastructure in ``common``."""
import warnings

# Nameko 2.14 runs on eventlet, which announces its maintenance mode on import; the notice is not actionable here.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
