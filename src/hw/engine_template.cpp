#include "hw/engine_template.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/text.hpp"
#include "hw/dataflow.hpp"
#include "hw/memory.hpp"

namespace hao::hw {
namespace {

double bytes_of(double elements, int bits) { return elements * bits / 8.0; }

// Output bits of layer i: the precision its readers take it at (the widest of them).
int out_bits(const ir::Network& net, const std::vector<std::vector<int>>& readers, int i) {
  int bits = 0;
  for (int r : readers[static_cast<std::size_t>(i)])
    bits = std::max(bits, net.layers[static_cast<std::size_t>(r)].act_bits);
  return bits > 0 ? bits : net.layers[static_cast<std::size_t>(i)].act_bits;
}

std::vector<std::vector<int>> readers_of(const ir::Network& net) {
  std::vector<std::vector<int>> readers(net.layers.size());
  for (std::size_t i = 0; i < net.layers.size(); ++i)
    for (int p : net.layers[i].inputs)
      if (p != ir::kNetworkInput) {
        auto& r = readers[static_cast<std::size_t>(p)];
        if (r.empty() || r.back() != static_cast<int>(i)) r.push_back(static_cast<int>(i));
      }
  return readers;
}

// The loop nest of a layer seen as a convolution (an fc is a 1x1 conv on a 1x1 map whose
// input channels are all input elements; a global pooling a window over the whole map).
struct Geometry {
  std::int64_t ho = 1, wo = 1, cout = 1;
  std::int64_t hin = 1, win = 1, cin = 1;
  std::int64_t kh = 1, kw = 1, sh = 1;
  std::int64_t span_h = 1;  // rows a window spans: kh, or (kh - 1) dilation + 1
  std::int64_t groups = 1;
  // Input rows read for `rows` output rows.
  std::int64_t rows_in(std::int64_t rows) const { return std::min(hin, (rows - 1) * sh + span_h); }
};

Geometry geometry(const ir::Layer& l) {
  Geometry g;
  g.ho = l.out.h, g.wo = l.out.w, g.cout = l.out.c;
  g.hin = l.in.h, g.win = l.in.w, g.cin = l.in.c;
  switch (l.op) {
    case ir::OpKind::kFc:
      g.ho = g.wo = g.hin = g.win = 1;
      g.cin = l.in.elements();
      break;
    case ir::OpKind::kConv:
    case ir::OpKind::kMaxPool:
    case ir::OpKind::kAvgPool:
      g.kh = l.kernel_h, g.kw = l.kernel_w, g.sh = l.stride_h, g.span_h = l.span_h();
      g.groups = l.op == ir::OpKind::kConv ? l.groups : 1;
      break;
    case ir::OpKind::kGlobalAvgPool:
      g.kh = g.span_h = l.in.h, g.kw = l.in.w, g.sh = std::max<std::int64_t>(1, l.in.h);
      break;
    default:
      break;
  }
  return g;
}

// Splits `extent` into tiles of `size`: the count and the size of the last one.
struct Split {
  std::int64_t count = 1, last = 1, size = 1;
};
Split split(std::int64_t extent, std::int64_t size) {
  size = std::clamp<std::int64_t>(size, 1, std::max<std::int64_t>(1, extent));
  Split s;
  s.size = size;
  s.count = ceil_div(extent, size);
  s.last = extent - (s.count - 1) * size;
  return s;
}

// Sum over the tiles of f(tile size).
template <class F>
double over(const Split& s, F f) {
  return static_cast<double>(s.count - 1) * f(s.size) + f(s.last);
}

double bytes_per_cycle(const Device& d, const EngineCostOptions& o) {
  return d.offchip_gbps * 1e9 * o.bandwidth_efficiency / (d.clock_mhz * 1e6);
}

void finish(TileCost& c, const Device& device, const EngineCostOptions& o, double units,
            double first_load_bytes) {
  const double bpc = bytes_per_cycle(device, o);
  c.memory_cycles = (c.in_bytes + c.weight_bytes + c.out_bytes) / bpc;
  c.prologue_cycles = first_load_bytes / bpc;
  c.overhead_cycles =
      units * o.layer_overhead_cycles + static_cast<double>(c.tiles) * o.tile_overhead_cycles;
  c.cycles = std::max(c.compute_cycles, c.memory_cycles) + c.prologue_cycles + c.overhead_cycles;
}

// Buffer needs from one tile of each operand (twice over when there is more than one tile:
// double buffering), then the cycles.
void set_tiles(TileCost& c, double in_tile, double weight_tile, double out_tile,
               const Device& device, const EngineCostOptions& o) {
  const double buffers = c.tiles > 1 ? 2 : 1;
  c.need_in = buffers * in_tile;
  c.need_weight = buffers * weight_tile;
  c.need_out = buffers * out_tile;
  finish(c, device, o, 1, in_tile + weight_tile);
}

TileCost conv_cost(const ir::Network& net, const std::vector<std::vector<int>>& readers, int i,
                   const Tiling& t, const EngineConfig& cfg, const Device& device,
                   const EngineCostOptions& o) {
  const ir::Layer& l = net.layers[static_cast<std::size_t>(i)];
  const Geometry g = geometry(l);
  const EngineShape& s = cfg.shape;
  const Split rows = split(g.ho, t.rows), chans = split(g.cout, t.channels);
  const std::int64_t cin_g = g.cin / g.groups;
  const double kk = static_cast<double>(g.kh * g.kw);
  TileCost c;
  c.tiling = {rows.size, chans.size, t.weights_outer};
  c.tiles = rows.count * chans.count;
  c.compute_cycles =
      over(rows, [&](std::int64_t r) { return static_cast<double>(ceil_div(r * g.wo, s.pp)); }) *
      over(chans, [&](std::int64_t ch) { return static_cast<double>(ceil_div(ch, s.po)); }) *
      static_cast<double>(ceil_div(cin_g, s.pi)) * kk;
  const int ab = l.act_bits, wb = l.weight_bits, ob = out_bits(net, readers, i);
  const double in_once = bytes_of(
      over(rows, [&](std::int64_t r) { return static_cast<double>(g.rows_in(r) * g.win); }) *
          static_cast<double>(g.cin),
      ab);
  const double weights = static_cast<double>(l.weights() * wb) / 8.0;
  if (t.weights_outer) {
    c.weight_bytes = weights;
    c.in_bytes = rows.count == 1 ? in_once : in_once * static_cast<double>(chans.count);
  } else {
    c.in_bytes = in_once;
    c.weight_bytes = chans.count == 1 ? weights : weights * static_cast<double>(rows.count);
  }
  c.out_bytes = bytes_of(static_cast<double>(l.out.elements()), ob);
  set_tiles(c, bytes_of(static_cast<double>(g.rows_in(rows.size) * g.win * g.cin), ab),
            bytes_of(kk * static_cast<double>(cin_g * chans.size), wb),
            bytes_of(static_cast<double>(rows.size * g.wo * chans.size), ob), device, o);
  return c;
}

TileCost depthwise_cost(const ir::Network& net, const std::vector<std::vector<int>>& readers, int i,
                        const Tiling& t, const EngineConfig& cfg, const Device& device,
                        const EngineCostOptions& o) {
  const ir::Layer& l = net.layers[static_cast<std::size_t>(i)];
  const Geometry g = geometry(l);
  const Split rows = split(g.ho, t.rows), chans = split(g.cout, t.channels);
  const double kk = static_cast<double>(g.kh * g.kw);
  TileCost c;
  c.tiling = {rows.size, chans.size, false};
  c.tiles = rows.count * chans.count;
  c.compute_cycles =
      over(rows,
           [&](std::int64_t r) { return static_cast<double>(ceil_div(r * g.wo, cfg.shape.pp)); }) *
      over(chans,
           [&](std::int64_t ch) { return static_cast<double>(ceil_div(ch, cfg.dw_lanes)); }) *
      kk;
  const int ab = l.act_bits, wb = l.weight_bits, ob = out_bits(net, readers, i);
  // Each channel tile reads only its own input channels: no re-reads beyond the row halo.
  c.in_bytes = bytes_of(
      over(rows, [&](std::int64_t r) { return static_cast<double>(g.rows_in(r) * g.win); }) *
          static_cast<double>(g.cin),
      ab);
  c.weight_bytes = static_cast<double>(l.weights() * wb) / 8.0;
  c.out_bytes = bytes_of(static_cast<double>(l.out.elements()), ob);
  set_tiles(c, bytes_of(static_cast<double>(g.rows_in(rows.size) * g.win * chans.size), ab),
            bytes_of(kk * static_cast<double>(chans.size), wb),
            bytes_of(static_cast<double>(rows.size * g.wo * chans.size), ob), device, o);
  return c;
}

TileCost eltwise_cost(const ir::Network& net, const std::vector<std::vector<int>>& readers, int i,
                      const Tiling& t, const EngineConfig& cfg, const Device& device,
                      const EngineCostOptions& o) {
  const ir::Layer& l = net.layers[static_cast<std::size_t>(i)];
  const Geometry g = geometry(l);
  const Split rows = split(g.ho, t.rows);
  const double taps = static_cast<double>(g.kh * g.kw);
  const int ab = l.act_bits, ob = out_bits(net, readers, i);
  TileCost c;
  c.tiling = {rows.size, g.cout, false};
  c.tiles = rows.count;
  c.compute_cycles =
      over(rows,
           [&](std::int64_t r) { return static_cast<double>(ceil_div(r * g.wo, cfg.shape.pp)); }) *
      static_cast<double>(ceil_div(g.cout, cfg.shape.pi)) * taps;
  // Rows of input p read for r output rows: a window's rows, the same rows, or a broadcast.
  auto in_rows = [&](const ir::Shape& p, std::int64_t r) -> std::int64_t {
    if (p.h == 1) return 1;
    if (l.op == ir::OpKind::kUpsample) return ceil_div(r, l.scale_h);   // each row read once
    if (l.op == ir::OpKind::kPixelPad) return ceil_div(r, l.stride_h);  // zero rows read none
    if (taps > 1) return g.rows_in(r);
    return r;
  };
  double in_tile = 0;
  for (int p : l.inputs) {
    const ir::Shape ps = net.producer_shape(p);
    c.in_bytes += bytes_of(
        over(rows, [&](std::int64_t r) { return static_cast<double>(in_rows(ps, r) * ps.w); }) *
            static_cast<double>(ps.c),
        ab);
    in_tile += bytes_of(static_cast<double>(in_rows(ps, rows.size) * ps.w * ps.c), ab);
  }
  c.out_bytes = bytes_of(static_cast<double>(l.out.elements()), ob);
  set_tiles(c, in_tile, 0, bytes_of(static_cast<double>(rows.size * g.wo * g.cout), ob), device, o);
  return c;
}

// A fused [expand ->] depthwise -> project chain in row tiles of the project's output. The
// expand output of each tile (with the depthwise window's halo, recomputed per tile) and the
// depthwise output stay in the output buffer; only the chain's input and output cross DDR,
// and all its weights are loaded once and stay. The conv engine (expand, project) and the
// depthwise engine work on consecutive tiles concurrently.
TileCost fused_cost(const ir::Network& net, const std::vector<std::vector<int>>& readers,
                    const EngineUnit& u, const Tiling& t, const EngineConfig& cfg,
                    const Device& device, const EngineCostOptions& o) {
  const bool has_expand = u.layers.size() == 3;
  const ir::Layer& dw = net.layers[static_cast<std::size_t>(u.layers[has_expand ? 1 : 0])];
  const ir::Layer& pj = net.layers[static_cast<std::size_t>(u.layers.back())];
  const ir::Layer& first = net.layers[static_cast<std::size_t>(u.layers.front())];
  const Geometry g = geometry(dw);
  const EngineShape& s = cfg.shape;
  const Split rows = split(g.ho, t.rows);
  const std::int64_t cexp = dw.out.c, cin = first.in.c, cout = pj.out.c;
  const double kk = static_cast<double>(g.kh * g.kw);
  TileCost c;
  c.tiling = {rows.size, cout, false};
  c.tiles = rows.count;
  double conv_engine = 0, dw_engine = 0;
  conv_engine += over(rows, [&](std::int64_t r) {
    double expand = 0;
    if (has_expand)
      expand = static_cast<double>(ceil_div(g.rows_in(r) * g.win, s.pp) * ceil_div(cin, s.pi) *
                                   ceil_div(cexp, s.po));
    return expand + static_cast<double>(ceil_div(r * g.wo, s.pp) * ceil_div(cexp, s.pi) *
                                        ceil_div(cout, s.po));
  });
  dw_engine += over(rows, [&](std::int64_t r) {
    return static_cast<double>(ceil_div(r * g.wo, s.pp) * ceil_div(cexp, cfg.dw_lanes)) * kk;
  });
  c.compute_cycles = std::max(conv_engine, dw_engine);
  const int ab = first.act_bits, ob = out_bits(net, readers, u.layers.back());
  c.in_bytes = bytes_of(
      over(rows, [&](std::int64_t r) { return static_cast<double>(g.rows_in(r) * g.win); }) *
          static_cast<double>(cin),
      ab);
  for (int i : u.layers) {
    const ir::Layer& l = net.layers[static_cast<std::size_t>(i)];
    c.weight_bytes += static_cast<double>(l.weights() * l.weight_bits) / 8.0;
  }
  c.out_bytes = bytes_of(static_cast<double>(pj.out.elements()), ob);
  const double buffers = c.tiles > 1 ? 2 : 1;
  const double in_tile = bytes_of(static_cast<double>(g.rows_in(rows.size) * g.win * cin), ab);
  c.need_in = buffers * in_tile;
  c.need_weight = c.weight_bytes;
  c.need_out = buffers * bytes_of(static_cast<double>(rows.size * g.wo * cout), ob) +
               bytes_of(static_cast<double>(g.rows_in(rows.size) * g.win * cexp), dw.act_bits) +
               bytes_of(static_cast<double>(rows.size * g.wo * cexp), pj.act_bits);
  finish(c, device, o, 1, in_tile + c.weight_bytes);
  return c;
}

TileCost cost_of(const ir::Network& net, const std::vector<std::vector<int>>& readers,
                 const EngineUnit& unit, const Tiling& tiling, const EngineConfig& config,
                 const Device& device, const EngineCostOptions& options) {
  const int i = unit.layers.front();
  switch (unit.kind) {
    case UnitKind::kConv:
      return conv_cost(net, readers, i, tiling, config, device, options);
    case UnitKind::kDepthwise:
      return depthwise_cost(net, readers, i, tiling, config, device, options);
    case UnitKind::kEltwise:
      return eltwise_cost(net, readers, i, tiling, config, device, options);
    case UnitKind::kFused:
      return fused_cost(net, readers, unit, tiling, config, device, options);
  }
  return {};
}

// Powers of two times `step` below `extent`, then `extent` itself.
std::vector<std::int64_t> tile_sizes(std::int64_t extent, std::int64_t step) {
  std::vector<std::int64_t> out;
  for (std::int64_t v = std::max<std::int64_t>(1, step); v < extent; v *= 2) out.push_back(v);
  out.push_back(std::max<std::int64_t>(1, extent));
  return out;
}

bool is_pointwise(const ir::Layer& l) {
  return l.op == ir::OpKind::kConv && !l.is_depthwise() && l.groups == 1 && l.kernel_h == 1 &&
         l.kernel_w == 1 && l.stride_h == 1 && l.stride_w == 1;
}

}  // namespace

std::string to_string(UnitKind kind) {
  switch (kind) {
    case UnitKind::kConv:
      return "conv";
    case UnitKind::kDepthwise:
      return "dw";
    case UnitKind::kEltwise:
      return "eltwise";
    case UnitKind::kFused:
      return "fused";
  }
  return "?";
}

EngineWork engine_work(const ir::Network& net) {
  EngineWork work;
  const auto readers = readers_of(net);
  const std::size_t n = net.layers.size();
  std::vector<int> unit_of(n, -1);
  for (std::size_t i = 0; i < n; ++i) {
    const ir::Layer& l = net.layers[i];
    if (l.op == ir::OpKind::kConcat) continue;
    if (l.op == ir::OpKind::kAct && l.inputs.size() == 1 && l.inputs[0] != ir::kNetworkInput &&
        net.layers[static_cast<std::size_t>(l.inputs[0])].has_weights())
      continue;
    EngineUnit u;
    u.kind = l.is_depthwise()  ? UnitKind::kDepthwise
             : l.has_weights() ? UnitKind::kConv
                               : UnitKind::kEltwise;
    u.layers = {static_cast<int>(i)};
    u.name = l.name;
    unit_of[i] = static_cast<int>(work.units.size());
    work.units.push_back(std::move(u));
  }
  // The layer whose output `i` feeds through at most one fused activation, when `i` (and
  // that activation) have exactly one reader; -1 otherwise.
  auto next_weighted = [&](int i) -> int {
    const auto& r = readers[static_cast<std::size_t>(i)];
    if (r.size() != 1) return -1;
    const int j = r[0];
    const ir::Layer& lj = net.layers[static_cast<std::size_t>(j)];
    if (lj.op != ir::OpKind::kAct) return lj.has_weights() ? j : -1;
    const auto& r2 = readers[static_cast<std::size_t>(j)];
    return r2.size() == 1 && net.layers[static_cast<std::size_t>(r2[0])].has_weights() ? r2[0] : -1;
  };
  for (std::size_t d = 0; d < n; ++d) {
    const ir::Layer& dw = net.layers[d];
    if (!dw.is_depthwise()) continue;
    const int pj = next_weighted(static_cast<int>(d));
    if (pj < 0 || !is_pointwise(net.layers[static_cast<std::size_t>(pj)])) continue;
    EngineUnit chain;
    chain.kind = UnitKind::kFused;
    // The expand: the weighted layer before the depthwise (through an activation) that
    // feeds only it.
    int ex = dw.inputs[0];
    if (ex != ir::kNetworkInput && net.layers[static_cast<std::size_t>(ex)].op == ir::OpKind::kAct)
      ex = net.layers[static_cast<std::size_t>(ex)].inputs[0];
    if (ex != ir::kNetworkInput && next_weighted(ex) == static_cast<int>(d) &&
        is_pointwise(net.layers[static_cast<std::size_t>(ex)]))
      chain.layers.push_back(ex);
    chain.layers.push_back(static_cast<int>(d));
    chain.layers.push_back(pj);
    std::vector<int> members;
    std::vector<std::string> names;
    for (int i : chain.layers) {
      members.push_back(unit_of[static_cast<std::size_t>(i)]);
      names.push_back(net.layers[static_cast<std::size_t>(i)].name);
    }
    // Long framework names (ONNX paths) make the table unreadable; keep the first and count.
    chain.name = core::join(names, "+");
    if (chain.name.size() > 48)
      chain.name = names.front() + " +" + std::to_string(names.size() - 1);
    work.chains.push_back(std::move(chain));
    work.chain_members.push_back(std::move(members));
  }
  return work;
}

std::vector<Tiling> unit_tilings(const ir::Network& net, const EngineUnit& unit,
                                 const EngineShape& shape, std::int64_t dw_lanes) {
  std::vector<Tiling> out;
  const ir::Layer& last = net.layers[static_cast<std::size_t>(unit.layers.back())];
  const Geometry g = geometry(last);
  const auto rows = tile_sizes(g.ho, 1);
  switch (unit.kind) {
    case UnitKind::kConv:
      for (std::int64_t r : rows)
        for (std::int64_t c : tile_sizes(g.cout, shape.po)) {
          out.push_back({r, c, false});
          if (r < g.ho && c < g.cout) out.push_back({r, c, true});
        }
      break;
    case UnitKind::kDepthwise:
      for (std::int64_t r : rows)
        for (std::int64_t c : tile_sizes(g.cout, dw_lanes)) out.push_back({r, c, false});
      break;
    case UnitKind::kEltwise:
    case UnitKind::kFused:
      for (std::int64_t r : rows) out.push_back({r, g.cout, false});
      break;
  }
  return out;
}

TileCost unit_cost(const ir::Network& net, const EngineUnit& unit, const Tiling& tiling,
                   const EngineConfig& config, const Device& device,
                   const EngineCostOptions& options) {
  return cost_of(net, readers_of(net), unit, tiling, config, device, options);
}

std::vector<TileCost> tile_candidates(const ir::Network& net, const EngineUnit& unit,
                                      const EngineConfig& config, const Device& device,
                                      const EngineCostOptions& options) {
  std::vector<TileCost> all;
  const auto readers = readers_of(net);
  for (const Tiling& t : unit_tilings(net, unit, config.shape, config.dw_lanes))
    all.push_back(cost_of(net, readers, unit, t, config, device, options));
  auto key = [](const TileCost& c) {
    return std::make_tuple(c.cycles, c.need_in, c.need_weight, c.need_out, c.tiling.rows,
                           c.tiling.channels, c.tiling.weights_outer);
  };
  std::sort(all.begin(), all.end(),
            [&](const TileCost& a, const TileCost& b) { return key(a) < key(b); });
  std::vector<TileCost> kept;
  for (const TileCost& c : all) {
    bool dominated = false;
    for (const TileCost& k : kept)
      if (k.need_in <= c.need_in && k.need_weight <= c.need_weight && k.need_out <= c.need_out) {
        dominated = true;  // k is at least as fast (sorted) and needs no more of any buffer
        break;
      }
    if (!dominated) kept.push_back(c);
  }
  return kept;
}

BufferBanks min_buffer_banks(const EngineConfig& c, int weight_bits, int act_bits) {
  const EngineShape& s = c.shape;
  BufferBanks b;
  b.in = ceil_div(s.pp * std::max(s.pi, c.dw_lanes) * act_bits, 72);
  b.weight = ceil_div(std::max(s.pi * s.po, c.dw_lanes) * weight_bits, 72);
  b.out = ceil_div(s.pp * std::max(s.po, c.dw_lanes) * act_bits, 72);
  return b;
}

Resources engine_resources(const EngineConfig& c, const Device& device, int weight_bits,
                           int act_bits, const EngineCostOptions& o) {
  const double per = dsp_per_product(device.dsp_kind, weight_bits, act_bits);
  Resources r;
  r.dsp = std::ceil(static_cast<double>(c.shape.pp * c.shape.pi * c.shape.po) * per) +
          std::ceil(static_cast<double>(c.shape.pp * c.dw_lanes) * per);
  const double blocks = static_cast<double>(c.in_bram + c.weight_bram + c.out_bram);
  r.lut =
      o.lut_base + o.lut_per_mac * static_cast<double>(c.macs()) + o.lut_per_buffer_bram * blocks;
  r.bram36 = blocks;
  return r;
}

std::vector<EngineConfig> engine_shape_candidates(const Device& device, int weight_bits,
                                                  int act_bits, const EngineCostOptions& o) {
  std::vector<EngineConfig> out;
  const Resources cap = device.usable();
  const std::int64_t lanes[] = {4, 8, 16, 32, 64};
  for (std::int64_t pp : {1, 2, 4, 8, 16})
    for (std::int64_t pi : lanes)
      for (std::int64_t po : lanes)
        for (std::int64_t dc : lanes) {
          EngineConfig c;
          c.shape = {pp, pi, po};
          c.dw_lanes = dc;
          const BufferBanks b = min_buffer_banks(c, weight_bits, act_bits);
          c.in_bram = b.in, c.weight_bram = b.weight, c.out_bram = b.out;
          const Resources r = engine_resources(c, device, weight_bits, act_bits, o);
          if (r.dsp <= cap.dsp && r.lut <= cap.lut && r.bram36 <= cap.bram36) out.push_back(c);
        }
  return out;
}

int max_weight_bits(const ir::Network& net) {
  int bits = 1;
  for (const auto& l : net.layers)
    if (l.has_weights()) bits = std::max(bits, l.weight_bits);
  return bits;
}

int max_act_bits(const ir::Network& net) {
  int bits = 1;
  for (const auto& l : net.layers) bits = std::max(bits, l.act_bits);
  return bits;
}

double engine_cycles_bound(const ir::Network& net, const EngineWork& work,
                           const EngineConfig& config, const Device& device,
                           const EngineCostOptions& o) {
  const auto readers = readers_of(net);
  const double bpc = bytes_per_cycle(device, o);
  const double fixed = o.layer_overhead_cycles + o.tile_overhead_cycles;
  const EngineShape& s = config.shape;
  auto layer = [&](int i) -> const ir::Layer& { return net.layers[static_cast<std::size_t>(i)]; };
  auto pixels = [&](const Geometry& g) { return static_cast<double>(ceil_div(g.ho * g.wo, s.pp)); };
  auto weight_bytes = [&](int i) {
    return static_cast<double>(layer(i).weights() * layer(i).weight_bits) / 8.0;
  };
  auto out_bytes = [&](int i) {
    return bytes_of(static_cast<double>(layer(i).out.elements()), out_bits(net, readers, i));
  };
  std::vector<double> bound(work.units.size());
  for (std::size_t u = 0; u < work.units.size(); ++u) {
    const int i = work.units[u].layers.front();
    const Geometry g = geometry(layer(i));
    const double kk = static_cast<double>(g.kh * g.kw);
    double compute = 0;
    switch (work.units[u].kind) {
      case UnitKind::kConv:
        compute = pixels(g) * static_cast<double>(ceil_div(g.cout, s.po)) *
                  static_cast<double>(ceil_div(g.cin / g.groups, s.pi)) * kk;
        break;
      case UnitKind::kDepthwise:
        compute = pixels(g) * static_cast<double>(ceil_div(g.cout, config.dw_lanes)) * kk;
        break;
      case UnitKind::kEltwise:
      case UnitKind::kFused:
        compute = pixels(g) * static_cast<double>(ceil_div(g.cout, s.pi)) * kk;
        break;
    }
    bound[u] = std::max(compute, (weight_bytes(i) + out_bytes(i)) / bpc) + fixed;
  }
  std::vector<double> share = bound;  // per unit, the least it may cost in any design
  for (std::size_t c = 0; c < work.chains.size(); ++c) {
    const std::vector<int>& layers = work.chains[c].layers;
    const bool has_expand = layers.size() == 3;
    const ir::Layer& dw = layer(layers[has_expand ? 1 : 0]);
    const Geometry g = geometry(dw);
    const std::int64_t cexp = dw.out.c, cin = layer(layers.front()).in.c,
                       cout = layer(layers.back()).out.c;
    // Output pixels stand for the expand's too: it computes at least the rows the chain writes.
    const double conv =
        pixels(g) *
        static_cast<double>((has_expand ? ceil_div(cin, s.pi) * ceil_div(cexp, s.po) : 0) +
                            ceil_div(cexp, s.pi) * ceil_div(cout, s.po));
    const double depthwise = pixels(g) * static_cast<double>(ceil_div(cexp, config.dw_lanes)) *
                             static_cast<double>(g.kh * g.kw);
    double bytes = out_bytes(layers.back());
    for (int i : layers) bytes += weight_bytes(i);
    const double fused = std::max(std::max(conv, depthwise), bytes / bpc) + fixed;
    const std::vector<int>& members = work.chain_members[c];
    for (int m : members)
      share[static_cast<std::size_t>(m)] =
          std::min(share[static_cast<std::size_t>(m)], fused / static_cast<double>(members.size()));
  }
  double total = 0;
  for (double v : share) total += v;
  return total;
}

EngineEval evaluate_engine(const ir::Network& net, const EngineDesign& design, const Device& device,
                           const EngineCostOptions& options) {
  EngineEval e;
  const EngineConfig& c = design.config;
  const int wb = std::max(max_weight_bits(net), design.datapath_weight_bits);
  const int ab = std::max(max_act_bits(net), design.datapath_act_bits);
  const auto readers = readers_of(net);
  const double cap_in = static_cast<double>(c.in_bram) * kBram36Bytes;
  const double cap_w = static_cast<double>(c.weight_bram) * kBram36Bytes;
  const double cap_out = static_cast<double>(c.out_bram) * kBram36Bytes;
  for (const EngineStep& s : design.steps) {
    const TileCost cost =
        cost_of(net, readers, {s.kind, s.layers, s.name}, s.tiling, c, device, options);
    auto check = [&](const char* what, double need, double cap) {
      if (need > cap)
        e.over_budget.push_back(s.name + ": " + what + " tile needs " +
                                core::with_commas(static_cast<std::int64_t>(std::ceil(need))) +
                                " bytes > buffer of " +
                                core::with_commas(static_cast<std::int64_t>(cap)) + " bytes");
    };
    check("input", cost.need_in, cap_in);
    check("weight", cost.need_weight, cap_w);
    check("output", cost.need_out, cap_out);
    e.cycles += cost.cycles;
    e.bytes += cost.in_bytes + cost.weight_bytes + cost.out_bytes;
    e.steps.push_back(cost);
  }
  const BufferBanks banks = min_buffer_banks(c, wb, ab);
  auto check_banks = [&](const char* what, std::int64_t have, std::int64_t need) {
    if (have < need)
      e.over_budget.push_back(std::string(what) + " buffer has " + std::to_string(have) +
                              " BRAM36, needs at least " + std::to_string(need) +
                              " to feed the engines every cycle");
  };
  check_banks("input", c.in_bram, banks.in);
  check_banks("weight", c.weight_bram, banks.weight);
  check_banks("output", c.out_bram, banks.out);
  e.total = engine_resources(c, device, wb, ab, options);
  for (auto& m : over_budget(e.total, device)) e.over_budget.push_back(m);
  e.latency_ms = e.cycles / (device.clock_mhz * 1e3);
  e.fps = e.latency_ms > 0 ? 1000.0 / e.latency_ms : 0;
  return e;
}

}  // namespace hao::hw
