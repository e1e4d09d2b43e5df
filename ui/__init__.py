"""The pages' figures and page controllers, below views/ and web/, above sharp/.

Figures are pure builders, data in and a drawing out, testable without a browser: SVG for the live page and the
kiosk (figures, trajectories, kiosk), Plotly for the paper pages (paper_figures, regime) with their text
alternative (charttext). Page controllers hold a page's logic that is not drawing: the live page's settings
across reruns (live), the paper pages' sweeps, URL and charts (paper), the tour (tour), the kiosk's links
(kiosk). Nothing here trains: runs and sweeps are sharp's, computed by the server's pool.
"""
