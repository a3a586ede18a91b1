"""Reading /metrics as Prometheus does."""

from prometheus_client.parser import text_string_to_metric_families


class Scrape(dict):
    """Sample values by name and labels; ``scraped("reminders_sent_total")``,
    ``scraped("deliveries_total", channel="email", outcome="delivered")``. A series not
    exposed reads 0, as a counter never incremented would."""

    def __call__(self, name: str, **labels: str) -> float:
        return self.get((name, frozenset(labels.items())), 0.0)


def scrape(client, **headers) -> Scrape:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    return Scrape(
        ((sample.name, frozenset(sample.labels.items())), sample.value)
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    )
