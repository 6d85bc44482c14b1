from __future__ import annotations

import pytest

from dedupe.engine import Matcher
from dedupe.weights import ModelParams
from tests.dedupe.synthetic import population


@pytest.fixture(scope="session")
def fitted_params() -> ModelParams:
    records, _, _ = population()
    return Matcher().fit(records)


@pytest.fixture()
def matcher(fitted_params: ModelParams) -> Matcher:
    return Matcher(params=ModelParams.from_dict(fitted_params.to_dict()))
