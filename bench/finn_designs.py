#!/usr/bin/python3
"""hao on FINN's own designs: every finn-examples folding file hao reads, evaluated node for
node (`hao map --folding`), beside hao's fastest design within the same resources and FINN's
SetFolding at the same II (`--compare`). Prints the two Markdown tables of docs/benchmarks.md.

    cmake --build build -j2 && /usr/bin/python3 bench/finn_designs.py [build/apps/hao/hao]

Networks: tests/fixtures/finn_*.onnx (tests/fixtures/make_finn_onnx.py), bits:
tests/fixtures/finn_bits/, folding files: ../shared/data/finn-examples/.
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "finn-examples")

# design, bits file, network, folding file, device, board, clock (MHz), measured fps (if any)
DESIGNS = [
    ("CNV-w1a1", "cnv-w1a1", "finn_cnv", "bnn-pynq/folding_config/cnv-w1a1_folding_config.json",
     "xc7z020", "Pynq-Z1", 100, 3020.5),
    ("CNV-w1a2", "cnv-w1a2", "finn_cnv", "bnn-pynq/folding_config/cnv-w1a2_folding_config.json",
     "xc7z020", "Pynq-Z1", 100, None),
    ("CNV-w2a2", "cnv-w2a2", "finn_cnv", "bnn-pynq/folding_config/cnv-w2a2_folding_config.json",
     "xc7z020", "Pynq-Z1", 100, None),
    ("TFC-w1a1", "tfc-w1a1", "finn_tfc", "bnn-pynq/folding_config/tfc-w1a1_folding_config.json",
     "xc7z020", "Pynq-Z1", 100, None),
    ("TFC-w1a2", "tfc-w1a2", "finn_tfc", "bnn-pynq/folding_config/tfc-w1a2_folding_config.json",
     "xc7z020", "Pynq-Z1", 100, None),
    ("TFC-w2a2", "tfc-w2a2", "finn_tfc", "bnn-pynq/folding_config/tfc-w2a2_folding_config.json",
     "xc7z020", "Pynq-Z1", 100, None),
    ("GTSRB CNV-w1a1", "gtsrb-w1a1", "finn_gtsrb", "gtsrb/folding_config/gtsrb_folding_config.json",
     "xc7z020", "Pynq-Z1", 100, None),
    ("KWS MLP-w3a3", "kws-w3a3", "finn_kws", "kws/folding_config/kws_folding_config.json",
     "xc7z020", "Pynq-Z1", 100, None),
    ("MobileNet-v1 w4a4", "mobilenet-v1-w4a4", "finn_mobilenet_v1",
     "mobilenet-v1/folding_config/ZCU102_folding_config.json", "zu9eg", "ZCU102", 100, None),
    ("MobileNet-v1 w4a4", "mobilenet-v1-w4a4", "finn_mobilenet_v1",
     "mobilenet-v1/folding_config/ZCU104_folding_config.json", "zu7ev", "ZCU104", 100, None),
    ("MobileNet-v1 w4a4", "mobilenet-v1-w4a4", "finn_mobilenet_v1",
     "mobilenet-v1/folding_config/U250_folding_config.json", "u250", "U250", 333.333, None),
    ("ResNet-50 w1a2", "resnet50-w1a2", "finn_resnet50",
     "resnet50/folding_config/U250_folding_config.json", "u250", "U250", 250, None),
    # finn-examples' VGG10 README: "~230k frames/s (236M samples/s)" at 250 MHz.
    ("VGG10 w4a4", "vgg10-w4a4", "finn_vgg10",
     "vgg10-radioml/folding_config/ZCU104_folding_config.json", "zu7ev", "ZCU104", 250,
     236e6 / 1024),
]


def n(v, digits=0):
    return f"{v:,.{digits}f}"


def main():
    hao = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "apps", "hao", "hao")
    designs, compare = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "compare.json")
        for name, bits, net, folding, device, board, clock, measured in DESIGNS:
            path = os.path.join(DATA, folding)
            cmd = [hao, "map", os.path.join(ROOT, "tests", "fixtures", net + ".onnx"),
                   "--device", device, "--clock-mhz", str(clock),
                   "--bits", os.path.join(ROOT, "tests", "fixtures", "finn_bits", bits + ".yaml"),
                   "--folding", path, "--compare", "--json", out]
            run = subprocess.run(cmd, capture_output=True, text=True)
            if run.returncode not in (0, 3):
                sys.exit(f"{' '.join(cmd)}: exit {run.returncode}\n{run.stderr}")
            j = json.load(open(out))
            f, o, s = j["folding_file"], j["optimal"], j["set_folding"]
            entries = len([k for k in json.load(open(path)) if k != "Defaults"])
            nodes = len(f["finn_nodes"])
            t = f["total"]
            ratio = f"{f['fps'] / measured:.3f}" if measured else "-"
            designs.append(
                f"| {name} | {board} ({device}), {clock:.0f} MHz | {entries} of {entries} "
                f"({nodes} nodes) | {n(f['ii_cycles'])} | {n(f['fps'], 1)} | "
                f"{n(measured, 1) if measured else '-'} | {ratio} | {n(t['lut'])} | "
                f"{n(t['bram36'], 1)} | {n(t['uram'])} | {n(t['dsp'])} | "
                f"{'yes' if f['feasible'] else 'no'} |")
            cells = [f"{name}, {board}"]
            for d in (f, o, s):
                d_t = d["total"]
                cells.append(f"{n(d['fps'], 1)} ({n(d_t['lut'])} LUT, {n(d_t['bram36'], 1)} BRAM"
                             f"{', ' + n(d_t['dsp']) + ' DSP' if d_t['dsp'] else ''})")
            cells.append(f"{o['fps'] / f['fps']:.3f}")
            cells.append(f"{s['fps'] / f['fps']:.3f}" + ("" if s["feasible"] else " (does not fit)"))
            compare.append("| " + " | ".join(cells) + " |")
    print("| design | board, clock | file entries read | II (cycles) | hao fps | measured fps "
          "| hao / measured | LUT | BRAM36 | URAM | DSP | fits |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print("\n".join(designs))
    print()
    print("| design | FINN's folding file | hao optimal, same resources | FINN SetFolding, same II "
          "| hao / file | SetFolding / file |")
    print("|---|---|---|---|---:|---:|")
    print("\n".join(compare))


if __name__ == "__main__":
    main()
