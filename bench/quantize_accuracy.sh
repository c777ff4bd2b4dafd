#!/bin/bash
# Issue 5's accuracy table: uniform w8a8/w4a4/w2a2 against the designs program 3 picks at the
# fps of w4a4, halfway to w2a2's, and at w2a2's, on the built-in Fashion-MNIST network on
# zu3eg with bits {2,4,8}. Per seed: 3 float epochs, then 1 QAT epoch at each design's bits
# from that checkpoint. The designs come from seed 1's sensitivity, so every seed trains the
# same bits. Then the same three targets with a measured sensitivity (hao sensitivity --curvature
# measured) and weight and input widths chosen apart (pairs from {2,4,8}), against uniform
# w2a4 too. About 90 minutes on 2 cores.
#   bench/quantize_accuracy.sh [BUILD_DIR] [OUT_DIR]
set -euo pipefail
build=$(realpath "${1:-build}")
out=${2:-quantize_accuracy}
hao="$build/apps/hao/hao"
mkdir -p "$out" && cd "$out"
threads=2

for s in 1 2 3; do
  [ -f f$s.pt ] || "$hao" train --epochs 3 --seed $s --threads $threads --out f$s.pt --json f$s.json >f$s.log 2>&1
done
[ -f s1.json ] || "$hao" sensitivity --checkpoint f1.pt --out s1.json --threads $threads >s1.log 2>&1
[ -f m1.json ] || "$hao" sensitivity --checkpoint f1.pt --curvature measured --out m1.json \
  --threads $threads >m1.log 2>&1

# Uniform designs: every middle layer at one width (the first and last keep the model's).
/usr/bin/python3 - <<'PY'
import json
s = json.load(open('s1.json'))
names = [l['name'] for l in s['layers']][1:-1]
for b in (8, 4, 2):
    open(f'u{b}.yaml', 'w').write(''.join(f'{n}: w{b}a{b}\n' for n in names))
open('u24.yaml', 'w').write(''.join(f'{n}: w2a4\n' for n in names))
PY
for b in 8 4 2 24; do "$hao" map --bits u$b.yaml --json map_u$b.json >/dev/null; done
fps() { /usr/bin/python3 -c "import json; print(json.load(open('$1'))['fps'])"; }
f4=$(fps map_u4.json); f2=$(fps map_u2.json)
half=$(/usr/bin/python3 -c "print(($f4 + $f2) / 2)")
"$hao" quantize --sensitivity s1.json --bits-choices 2,4,8 --fps "$f4" --bits-out mixA.yaml --json qA.json >/dev/null
"$hao" quantize --sensitivity s1.json --bits-choices 2,4,8 --fps "$half" --bits-out mixB.yaml --json qB.json >/dev/null
"$hao" quantize --sensitivity s1.json --bits-choices 2,4,8 --fps "$f2" --bits-out mixC.yaml --json qC.json >/dev/null
for b in 8 4 2; do "$hao" quantize --sensitivity s1.json --bits-choices $b --fps 1 --json q$b.json >/dev/null; done
pairs=2,4,8,w2a4,w2a8,w4a2,w4a8,w8a2,w8a4
"$hao" quantize --sensitivity m1.json --bits-choices $pairs --fps "$f4" --bits-out mixAm.yaml --json qAm.json >/dev/null
"$hao" quantize --sensitivity m1.json --bits-choices $pairs --fps "$half" --bits-out mixBm.yaml --json qBm.json >/dev/null
"$hao" quantize --sensitivity m1.json --bits-choices $pairs --fps "$f2" --bits-out mixCm.yaml --json qCm.json >/dev/null
for b in 4 w2a4; do "$hao" quantize --sensitivity m1.json --bits-choices $b --fps 1 --json qm$b.json >/dev/null; done

for design in u8 u4 u2 u24 mixA mixB mixC mixAm mixBm mixCm; do
  for s in 1 2 3; do
    [ -f ${design}_s$s.json ] || "$hao" train --epochs 0 --init f$s.pt --qat-epochs 1 --bits $design.yaml \
      --seed $s --threads $threads --json ${design}_s$s.json >${design}_s$s.log 2>&1
  done
done

/usr/bin/python3 - <<'PY'
import json, statistics
rows = [('uniform w8a8', 'u8', 'map_u8.json', 'q8.json'), ('uniform w4a4', 'u4', 'map_u4.json', 'q4.json'),
        ('uniform w2a2', 'u2', 'map_u2.json', 'q2.json'),
        ('program 3 at the fps of w4a4', 'mixA', 'qA.json', 'qA.json'),
        ('program 3 halfway to w2a2', 'mixB', 'qB.json', 'qB.json'),
        ('program 3 at the fps of w2a2', 'mixC', 'qC.json', 'qC.json'),
        ('uniform w2a4 (measured Omega)', 'u24', 'map_u24.json', 'qmw2a4.json'),
        ('uniform w4a4 (measured Omega)', 'u4', 'map_u4.json', 'qm4.json'),
        ('program 3, measured, pairs, at the fps of w4a4', 'mixAm', 'qAm.json', 'qAm.json'),
        ('program 3, measured, pairs, halfway to w2a2', 'mixBm', 'qBm.json', 'qBm.json'),
        ('program 3, measured, pairs, at the fps of w2a2', 'mixCm', 'qCm.json', 'qCm.json')]
print('| design | fps | DSP | LUT | BRAM36 | summed Omega | test accuracy (mean ± sd) | per seed |')
print('|---|---:|---:|---:|---:|---:|---:|---|')
for name, prefix, hw, om in rows:
    h = json.load(open(hw)); h = h.get('design', h)
    res = h.get('total') or h['resources']
    omega = json.load(open(om))['design']['omega']
    acc = [100 * json.load(open(f'{prefix}_s{s}.json'))['test_accuracy'] for s in (1, 2, 3)]
    print(f"| {name} | {h['fps']:,.0f} | {res['dsp']:.0f} | {res['lut']:,.0f} | {res['bram36']:.0f} | "
          f"{omega:.4f} | {statistics.mean(acc):.2f} ± {statistics.stdev(acc):.2f} | "
          f"{', '.join(f'{a:.2f}' for a in acc)} |")
PY
