"""A guided tour in six steps: the task, the kernel regime, feature learning, why about ln d steps, samples, deep
nets. Each step has one idea, one control, one question and its answer; ui.tour draws them."""
from ui import tour

tour.page()
