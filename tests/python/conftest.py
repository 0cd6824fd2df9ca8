# SPDX-License-Identifier: BSD-3-Clause
"""pytest configuration: tests import `support` from this directory."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
