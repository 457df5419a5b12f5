"""Training of the shipped recognizer heads, as one package driven by one YAML config per model.

- `corpus`: the real recordings in ../shared/speech and their fixed tune / held-out split;
- `synth`: renders of text by espeak-ng, festival and flite voices, cached by recipe;
- `augment`: levels, noise, rooms, speed, padding: the rooms and microphones a clip was not made in;
- `mlp`: the numpy MLPs the heads are (Adam, class weights, seed ensembles);
- `stop_head`, `command_head`, `pain_head`: what each model learns from and how its threshold is set;
- `config`: the configs in `configs/` (every knob of a model, checked: a wrong key names its line).

`python -m assistant.training assistant/training/configs/stop_head.yaml` trains a model;
`--plan-only` prints its training-data list's size and hash without rendering or training.
A model written to its shipped path is entered in the registry (assistant/registry.py) with the
hash of that list; no clip of the benchmark's held-out split may be in it.
"""
