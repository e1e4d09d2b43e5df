"""The pages' computed sentences on small synthetic frames: each number and verdict follows from the frame."""
import pandas as pd
import pytest

from sharp.experiments import paper


def sample_table(edges: dict[str, dict[int, int]], ns=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096)) -> pd.DataFrame:
    """A final table of the sample map whose cells reach zero test error from the given edge n on, per regime, d."""
    return pd.DataFrame([{"regime": r, "d": d, "n": n, "test_error": 0.0 if e is not None and n >= e else 0.3,
                          "distance": 1.0, "diverged": 0.0}
                         for r, per_d in edges.items() for d, e in per_d.items() for n in ns])


def test_edges_sentence_cannot_tell_d_from_d2_on_the_issues_grid():
    """The Samples page's defaults as the issue measured them: d = 8, 16, 32, n doubling."""
    s = paper.edges_sentence(sample_table({"feature": {8: 32, 16: 64, 32: 256}, "kernel": {8: 64, 16: 256, 32: 512}}))
    assert s == ("Smallest n with mean test error <= 0.02: feature learning 32 at d = 8 to 256 at d = 32, slope 1.50, "
                 "which the n grid pins only to 1.00 to 2.00: **cannot tell n ~ d from n ~ d^2**; kernel regime 64 at "
                 "d = 8 to 512 at d = 32, slope 1.50, which the n grid pins only to 1.00 to 2.00: **cannot tell n ~ d "
                 "from n ~ d^2**.")


@pytest.mark.parametrize("edges, verdict", [
    ({8: 32, 16: 64, 32: 128, 64: 256}, "**n ~ d**"),  # 4d over a factor 8 in d: the grid's factor 2 is enough
    ({8: 64, 16: 256, 32: 1024, 64: 4096}, "**n ~ d^2**"),
    ({8: 64, 64: 1024}, "pins only to 1.00 to 1.67: **n ~ d**"),  # slope 4/3, but the grid allows 1
])
def test_edges_sentence_tells_a_law_when_the_range_of_d_allows(edges, verdict):
    assert verdict in paper.edges_sentence(sample_table({"feature": edges}))


def test_edges_sentence_on_a_fine_grid_names_growth_between_the_laws():
    s = paper.edges_sentence(sample_table({"feature": {8: 64, 64: 1448}}, ns=(60, 64, 1400, 1448, 4096)))
    assert "slope 1.50, which the n grid pins only to 1.48 to 1.53: **none of n ~ d or n ~ d^2 (slope 1.50)**" in s


def test_edges_sentence_names_what_it_cannot_bound():
    # an edge at the smallest n tried has no n below it: the slope is unbounded on that side
    s = paper.edges_sentence(sample_table({"feature": {8: 16, 32: 64}}))
    assert "slope 1.00, which the n grid pins only to 0.50 to any value: **cannot tell n ~ d from n ~ d^2**" in s
    s = paper.edges_sentence(sample_table({"kernel": {8: 64, 16: None, 32: None}}))
    assert s == ("Smallest n with mean test error <= 0.02: kernel regime: an edge at fewer than two d, no slope; "
                 "no n tried reaches it at d = 16, 32.")
    assert "<= 0.1:" in paper.edges_sentence(sample_table({"feature": {8: 32, 16: 64}}), target=0.1)
