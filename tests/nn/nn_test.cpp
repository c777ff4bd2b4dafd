#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include "core/error.hpp"
#include "core/text.hpp"
#include "ir/description_io.hpp"
#include "ir/genotype.hpp"
#include "ir/model_io.hpp"
#include "nn/ir_module.hpp"
#include "nn/profile.hpp"
#include "nn/sensitivity.hpp"
#include "nn/synthetic_data.hpp"
#include "nn/train.hpp"

namespace hao::nn {
namespace {

using test::synthetic;

ir::Network example() { return ir::load_network(std::string(HAO_EXAMPLES) + "/fmnist_mbv2.yaml"); }

std::int64_t parameter_count(IrNet& m) {
  std::int64_t n = 0;
  for (const auto& p : m->parameters()) n += p.numel();
  return n;
}

TEST(IrModule, ParametersAndShapesMatchTheIr) {
  for (const std::string& path : {std::string(HAO_EXAMPLES) + "/fmnist_mbv2.yaml",
                                  std::string(HAO_FIXTURES) + "/mobilenet_v2.onnx",
                                  std::string(HAO_FIXTURES) + "/mobilenet_v3_small.onnx"}) {
    const ir::Network net = ir::load_network(path);
    IrNet m(net);
    // Weights, biases and every batch norm's scale and shift: what a framework counts.
    EXPECT_EQ(parameter_count(m), net.total_params_trained()) << path;
    m->eval();
    torch::NoGradGuard no_grad;
    const auto outs = m->forward_all(torch::zeros({1, net.input.c, net.input.h, net.input.w}));
    ASSERT_EQ(outs.size(), net.layers.size());
    for (std::size_t i = 0; i < outs.size(); ++i) {
      const ir::Shape& s = net.layers[i].out;
      const auto& t = outs[i];
      const std::vector<std::int64_t> want = {1, s.c, s.h, s.w};
      EXPECT_EQ(t.sizes().vec(), want) << path << " layer " << net.layers[i].name;
    }
  }
}

TEST(IrModule, CheckpointRoundTripAndMismatch) {
  const std::string path = ::testing::TempDir() + "example.pt";
  seed_torch(3);
  IrNet a(example());
  save_checkpoint(a, path);
  seed_torch(4);
  IrNet b(example());
  load_checkpoint(b, path);
  a->eval(), b->eval();
  const torch::Tensor x = torch::randn({2, 1, 28, 28});
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
  // The same layout under another name reads it (a search's "candidate7" built again from
  // its label).
  ir::Network renamed = example();
  renamed.name = "candidate7";
  IrNet r(renamed);
  load_checkpoint(r, path);
  r->eval();
  EXPECT_TRUE(torch::equal(a->forward(x), r->forward(x)));

  ir::Network other = example();
  other.layers.back().out_channels = 12;  // another classifier
  ir::infer_shapes(other, "other");
  IrNet c(other);
  try {
    load_checkpoint(c, path);
    FAIL() << "expected an InputError";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint of another network or layout"),
              std::string::npos)
        << e.what();
  }
  // Only a dilation differs, the shapes do not: still another layout.
  ir::Network dilated = example();
  for (auto& l : dilated.layers)
    if (l.op == ir::OpKind::kConv && l.kernel_h == 3 && l.pad_top == 1) {
      l.dilation_h = l.dilation_w = 2;
      l.pad_top = l.pad_left = l.pad_bottom = l.pad_right = 2;
      break;
    }
  ir::infer_shapes(dilated, "dilated");
  IrNet d(dilated);
  EXPECT_THROW(load_checkpoint(d, path), core::InputError);
  const std::string junk = ::testing::TempDir() + "junk.pt";
  std::ofstream(junk) << "not a checkpoint";
  EXPECT_THROW(load_checkpoint(b, junk), core::InputError);
  EXPECT_THROW(load_checkpoint(b, junk + ".missing"), core::InputError);
}

// A checkpoint keeps the input normalization its model was trained with, and, saved in
// quantization-aware mode, its bits (hao export reads both).
TEST(IrModule, CheckpointKeepsNormalizationAndBits) {
  const std::string path = ::testing::TempDir() + "normalized.pt";
  IrNet a(example());
  const std::vector<float> mean = {0.2860406041f}, sd = {0.3530242443f};
  a->set_input_normalization(mean, sd);
  save_checkpoint(a, path);
  IrNet b(example());
  load_checkpoint(b, path);
  EXPECT_EQ(b->trained_bits(), "");  // float: no bits record
  EXPECT_EQ(b->input_mean(), mean);  // bit for bit
  EXPECT_EQ(b->input_stddev(), sd);
  a->set_mode(IrNetImpl::Mode::kQuantized);
  save_checkpoint(a, path);
  IrNet q(example());
  load_checkpoint(q, path);
  EXPECT_EQ(q->trained_bits(), bits_record(a->network()));
  EXPECT_NE(bits_record(a->network()).find("stem:w"), std::string::npos);
  // A model without a normalization saves none, and loading keeps what the model has.
  IrNet c(example());
  save_checkpoint(c, path);
  load_checkpoint(b, path);
  EXPECT_EQ(b->input_mean(), mean);
}

TEST(Train, LearnsAndIsDeterministic) {
  const data::DataSet ds = synthetic(1200, 300, 1);
  TrainOptions o;
  o.epochs = 2, o.batch_size = 64, o.validation = 200, o.threads = 1, o.seed = 7;
  auto run = [&] {
    seed_torch(o.seed);
    IrNet m(example());
    return train(m, ds, o);
  };
  const TrainResult r1 = run(), r2 = run();
  ASSERT_EQ(r1.epochs.size(), 2u);
  EXPECT_EQ(r1.epochs.back().train_loss, r2.epochs.back().train_loss);  // same seed, same result
  EXPECT_EQ(r1.test_accuracy, r2.test_accuracy);
  EXPECT_GT(r1.test_accuracy, 0.9);  // ten patches: far above the 10% of chance
  EXPECT_GT(r1.val_accuracy, 0.9);
  EXPECT_LT(r1.epochs.back().train_loss, r1.epochs.front().train_loss);
}

// A NAS-Bench-201 cell of pools and skips (what latency-aware DARTS found at lambda 0.015):
// each cell adds its input twice, so the map grows about 2^5 a stage and reaches the
// classifier at a scale SGD diverges on (Fashion-MNIST, hao darts's standalone learning rate:
// the loss is NaN within 40 batches). NAS-Bench-201's last batch norm (lastact) keeps it
// trainable; the same network without it stops at the stall check.
TEST(IrModule, Nb201LastBatchNormTrainsACellOfPoolsAndSkips) {
  const data::DataSet ds = data::load_dataset("fashion-mnist");
  const ir::Network net = ir::genotype_model(
      "nb201:|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|skip_connect~0|skip_connect~1|"
      "nor_conv_3x3~2|",
      {1, 28, 28}, 10);
  TrainOptions o;
  o.steps = 45, o.batch_size = 64, o.validation = 500, o.subset = 3000, o.threads = 1;
  o.seed = 1, o.lr = 0.05, o.test = false;
  seed_torch(o.seed);
  IrNet m(net);
  EXPECT_EQ(parameter_count(m), net.total_params_trained());
  const TrainResult r = train(m, ds, o);
  EXPECT_TRUE(std::isfinite(r.epochs.back().train_loss));
  EXPECT_GT(r.val_accuracy, 0.5);

  ir::Network without = net;
  for (auto& l : without.layers) l.folded_norm &= l.op != ir::OpKind::kAct;
  seed_torch(o.seed);
  IrNet bare(without);
  EXPECT_THROW(train(bare, ds, o), core::RunFailure);
}

// In quantized mode at 16 bits (float quantizers) the folded batch norm computes what the
// separate one does in evaluation mode.
TEST(Qat, FoldedBatchNormEqualsTheLayerInEvaluation) {
  ir::Network net = example();
  for (auto& l : net.layers) l.weight_bits = l.act_bits = 16;
  seed_torch(5);
  IrNet m(net);
  m->train();
  {
    torch::NoGradGuard no_grad;  // move the running statistics away from 0 and 1
    for (int k = 0; k < 3; ++k) m->forward(torch::randn({8, 1, 28, 28}));
  }
  m->eval();
  const torch::Tensor x = torch::randn({4, 1, 28, 28});
  const torch::Tensor plain = m->forward(x);
  m->set_mode(IrNetImpl::Mode::kQuantized);
  EXPECT_TRUE(torch::allclose(m->forward(x), plain, 1e-4, 1e-5));
}

// Evaluating quantized without gradients quantizes each weight once, not once per batch; an
// in-place change to a weight or a batch norm's statistics is seen by the next evaluation
// exactly as by a module that never kept anything.
TEST(Qat, EvaluationKeepsQuantizedWeightsUntilATensorChanges) {
  ir::Network net = example();
  for (auto& l : net.layers) l.weight_bits = 4, l.act_bits = 8;
  seed_torch(7);
  IrNet m(net);
  m->train();
  torch::NoGradGuard no_grad;
  for (int k = 0; k < 3; ++k) m->forward(torch::randn({8, 1, 28, 28}));
  m->eval();
  m->set_mode(IrNetImpl::Mode::kCalibrate);
  m->forward(torch::randn({16, 1, 28, 28}));
  m->set_mode(IrNetImpl::Mode::kQuantized);
  const torch::Tensor x = torch::randn({4, 1, 28, 28});
  auto afresh = [&] {  // what a module that kept nothing computes
    m->train();
    m->eval();
    return m->forward(x);
  };
  const torch::Tensor first = m->forward(x);
  EXPECT_TRUE(torch::equal(m->forward(x), first));
  EXPECT_TRUE(torch::equal(afresh(), first));
  std::size_t with_norm = 0;
  while (!m->norm(with_norm)) ++with_norm;
  m->weight(with_norm).mul_(0.5);
  const torch::Tensor halved = m->forward(x);
  EXPECT_FALSE(torch::equal(halved, first));
  EXPECT_TRUE(torch::equal(afresh(), halved));
  m->norm(with_norm)->running_mean.add_(0.3);
  const torch::Tensor shifted = m->forward(x);
  EXPECT_FALSE(torch::equal(shifted, halved));
  EXPECT_TRUE(torch::equal(afresh(), shifted));
}

// Distinct values up to float rounding: the straight-through form w + (q - w) may land a level
// an ulp off, which torch::_unique would count twice.
std::int64_t distinct_levels(const torch::Tensor& v) {
  const torch::Tensor u = std::get<0>(torch::_unique(v.flatten()));
  std::int64_t n = 0;
  double last = -1e300;
  for (std::int64_t i = 0; i < u.numel(); ++i) {
    const double x = u[i].item<double>();
    if (x - last > 1e-5 * (1 + std::abs(x))) ++n, last = x;
  }
  return n;
}

TEST(Qat, QuantizersTakeTheirLevels) {
  seed_torch(11);
  const torch::Tensor w = torch::randn({6, 3, 3, 3});
  for (int bits : {2, 4, 8}) {
    const torch::Tensor q = fake_quant_weight(w, bits);
    const auto qmax = (1 << (bits - 1)) - 1;
    std::int64_t most_levels = 0;
    for (std::int64_t c = 0; c < 6; ++c) {
      // Below 4 bits the whole two's-complement grid (-2^(bits-1) .. 2^(bits-1) - 1 steps),
      // from 4 bits a symmetric one.
      EXPECT_LE(distinct_levels(q[c]), bits < 4 ? 2 * qmax + 2 : 2 * qmax + 1) << bits;
      most_levels = std::max(most_levels, distinct_levels(q[c]));
      const double largest = w[c].abs().max().item<double>();
      if (bits == 8) {
        // The largest magnitude is kept exactly (the scale is max |w| / qmax).
        EXPECT_NEAR(q[c].abs().max().item<double>(), largest, 1e-5);
      } else {
        // A clip below the largest weight that quantizes with no more squared error.
        const double scale = largest / qmax;
        const double at_max =
            ((w[c] / scale).round().clamp(-qmax, qmax) * scale - w[c]).pow(2).sum().item<double>();
        EXPECT_LE((q[c] - w[c]).pow(2).sum().item<double>(), at_max + 1e-9) << bits;
        EXPECT_LE(q[c].abs().max().item<double>(), largest + 1e-6) << bits;
      }
    }
    // At 2 bits the fourth level (-2 steps) is used: a symmetric grid would have three.
    if (bits == 2) {
      EXPECT_EQ(most_levels, 4);
    }
  }
  // Activations: the largest value at 8 bits, a tighter clip with less error at 2 bits.
  const torch::Tensor relu = torch::randn({4096}).clamp_min(0);
  const double top = relu.max().item<double>();
  EXPECT_DOUBLE_EQ(activation_clip(relu, 8, false), top);
  const double clip = activation_clip(relu, 2, false);
  EXPECT_LT(clip, top);
  const auto err = [&](double hi) {
    return (fake_quant_act(relu, 0, hi, 2) - relu).pow(2).mean().item<double>();
  };
  EXPECT_LT(err(clip), err(top));
  const torch::Tensor x = torch::linspace(-1, 7, 1000);
  EXPECT_EQ(distinct_levels(fake_quant_act(x, 0, 6, 4)), 16);  // 0..15 steps
  EXPECT_LE(distinct_levels(fake_quant_act(x, -1, 6, 4)), 15);
  // Signed activations take the whole grid too at 2 bits (-2, -1, 0, 1 steps), not at 4.
  EXPECT_EQ(distinct_levels(fake_quant_act(torch::linspace(-3, 3, 1000), -1, 1, 2)), 4);
  EXPECT_EQ(distinct_levels(fake_quant_act(torch::linspace(-3, 3, 1000), -1, 1, 4)), 15);
  EXPECT_TRUE(torch::equal(fake_quant_weight(w, 16), w));
  // Straight-through inside the range, nothing outside.
  torch::Tensor v = torch::tensor({-0.5, 3.0, 9.0}).requires_grad_();
  fake_quant_act(v, 0, 6, 4).sum().backward();
  EXPECT_TRUE(torch::equal(v.grad(), torch::tensor({0.0, 1.0, 0.0})));
}

// The clip search samples every k-th element in row-major order wherever the activation lies in
// memory: a channels-last activation gets the clip of its contiguous copy (and of the plain
// sample), and a calibration records the same ranges with either convolution layout.
TEST(Qat, ActivationClipAndRangesDoNotDependOnTheMemoryLayout) {
  seed_torch(3);
  const torch::Tensor x = torch::randn({20, 24, 14, 14}).clamp_min(-0.2);  // 94,080 values
  const torch::Tensor last = x.contiguous(at::MemoryFormat::ChannelsLast);
  ASSERT_FALSE(last.is_contiguous());
  const std::int64_t step = (x.numel() + 16383) / 16384;
  const torch::Tensor sample = x.flatten().slice(0, 0, x.numel(), step);
  for (int bits : {2, 4, 8})
    for (bool is_signed : {false, true}) {
      EXPECT_DOUBLE_EQ(activation_clip(last, bits, is_signed), activation_clip(x, bits, is_signed));
      EXPECT_DOUBLE_EQ(activation_clip(x, bits, is_signed),
                       activation_clip(sample, bits, is_signed));
    }
  ir::Network net = example();
  for (auto& l : net.layers) l.weight_bits = 4, l.act_bits = 4;
  const torch::Tensor images = torch::randn({32, 1, 28, 28});
  auto ranges = [&](bool channels_last) {
    set_conv_channels_last(channels_last);
    seed_torch(7);
    IrNet m(net);
    m->eval();
    m->set_mode(IrNetImpl::Mode::kCalibrate);
    torch::NoGradGuard no_grad;
    m->forward(images);
    std::vector<torch::Tensor> out;
    for (std::size_t i = 0; i < net.layers.size(); ++i)
      if (m->range(i).defined()) out.push_back(m->range(i).clone());
    return out;
  };
  const auto nchw = ranges(false), nhwc = ranges(true);
  set_conv_channels_last(true);
  ASSERT_EQ(nchw.size(), nhwc.size());
  for (std::size_t i = 0; i < nchw.size(); ++i)
    EXPECT_TRUE(torch::allclose(nchw[i], nhwc[i], 1e-5, 1e-6)) << i;
}

TEST(Qat, BitsOutsideTwoToEightAreBadInput) {
  ir::Network net = example();
  net.layers[0].weight_bits = 1;
  IrNet bad(net);
  try {
    bad->set_mode(IrNetImpl::Mode::kQuantized);
    FAIL() << "expected an InputError";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("layer 'stem': weight bits 1 cannot be trained"),
              std::string::npos);
  }
}

TEST(Qat, QuantizationAwareTrainingKeepsAccuracy) {
  const data::DataSet ds = synthetic(1200, 300, 3);
  TrainOptions o;
  o.epochs = 2, o.qat_epochs = 1, o.batch_size = 64, o.validation = 200, o.threads = 1;
  ir::Network net = example();
  for (auto& l : net.layers) l.weight_bits = l.act_bits = 4;
  seed_torch(o.seed);
  IrNet m(net);
  const TrainResult r = train(m, ds, o);
  ASSERT_EQ(r.epochs.size(), 3u);
  EXPECT_TRUE(r.quantized);
  EXPECT_TRUE(r.epochs.back().quantized);
  EXPECT_GT(r.float_test_accuracy, 0.9);
  EXPECT_GT(r.test_accuracy, r.float_test_accuracy - 0.05);
}

TEST(Profile, MeasuresTheNetworkAndEveryLayer) {
  const ir::Network net = example();
  IrNet m(net);
  ProfileOptions o;
  o.warmup = 2, o.repeats = 9, o.threads = 1;
  const ProfileResult r = profile(m, o);
  EXPECT_GT(r.min_ms, 0);
  EXPECT_LE(r.min_ms, r.p10_ms);
  EXPECT_LE(r.p10_ms, r.median_ms);
  EXPECT_LE(r.median_ms, r.p90_ms);
  EXPECT_EQ(r.repeats, 9);
  ASSERT_EQ(r.layers.size(), net.layers.size());
  for (std::size_t i = 0; i < r.layers.size(); ++i) {
    EXPECT_GE(r.layers[i].median_ms, 0);
    // A convolution or fc does measurable work; element-wise layers may round to nothing.
    if (net.layers[i].has_weights()) {
      EXPECT_GT(r.layers[i].median_ms, 0) << net.layers[i].name;
    }
  }
  EXPECT_GT(r.layers_sum_ms, 0);
  o.repeats = 0;
  EXPECT_THROW(profile(m, o), core::InputError);
}

// The host CPU as a latency column: a sample of NAS-Bench-201 cells, each timed whole; a cell
// with more convolutions takes longer than one with none.
TEST(Profile, GenotypesOfASpace) {
  const std::string csv = ::testing::TempDir() + "profile_genotypes.csv";
  std::ofstream(csv) << "arch_index,arch_str\n"
                        "0,|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|\n"
                        "1,|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|"
                        "nor_conv_3x3~1|nor_conv_3x3~2|\n"
                        "2,|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|\n";
  ProfileOptions o;
  o.warmup = 1, o.repeats = 3, o.threads = 1;
  std::size_t calls = 0;
  const GenotypeProfile measured = profile_genotypes(predict::Space::kNb201, csv, 0, 1, o,
                                                     [&](std::size_t done, std::size_t total) {
                                                       EXPECT_EQ(done, ++calls);
                                                       EXPECT_EQ(total, 3u);
                                                     });
  EXPECT_EQ(measured.header, (std::vector<std::string>{"arch_index", "arch_str"}));
  const auto& all = measured.rows;
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].line, 3u);
  EXPECT_EQ(all[1].fields[0], "1");
  EXPECT_TRUE(all[1].result.layers.empty());  // whole-network timing only
  EXPECT_GT(all[1].result.median_ms, all[0].result.median_ms);
  const auto two = profile_genotypes(predict::Space::kNb201, csv, 2, 7, o).rows;
  ASSERT_EQ(two.size(), 2u);
  EXPECT_NE(two[0].line, two[1].line);
  EXPECT_THROW(profile_genotypes(predict::Space::kNb201, csv, 4, 1, o), core::InputError);
  EXPECT_THROW(profile_genotypes(predict::Space::kAnb, csv, 0, 1, o), core::InputError);
  std::ofstream(csv, std::ios::app) << "3,|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|\n";
  try {
    profile_genotypes(predict::Space::kNb201, csv, 0, 1, o);
    FAIL() << "a bad genotype was profiled";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("line 5"), std::string::npos) << e.what();
  }
}

// Small enough for exact traces: a 3x3 conv on 6x6 images, a sigmoid, pooling and an fc.
ir::Network tiny_network() {
  return ir::parse_description(R"(
name: tiny
input: {channels: 1, height: 6, width: 6}
layers:
  - {name: conv, op: conv, out_channels: 3, kernel: 3, padding: 1}
  - {name: act, op: sigmoid}
  - {name: pool, op: global_avgpool}
  - {name: fc, op: fc, out_channels: 4, bias: true}
)",
                               "tiny");
}

// Differential check of Hutchinson's estimator against the exact traces (one Hessian-vector
// product per weight) on a network small enough to do both.
TEST(Sensitivity, HutchinsonMatchesTheExactTraces) {
  const ir::Network net = tiny_network();
  seed_torch(11);
  IrNet m(net);
  const torch::Tensor x = torch::randn({32, 1, 6, 6});
  const torch::Tensor y = torch::randint(0, 4, {32}, torch::kInt64);
  const std::vector<double> exact = exact_traces(m, x, y);
  SensitivityOptions o;
  o.max_iterations = 3000, o.min_iterations = 3000;
  const SensitivityResult r = sensitivity_on(m, x, y, o);
  ASSERT_EQ(r.layers.size(), 2u);
  for (std::size_t k = 0; k < 2; ++k) {
    EXPECT_GT(exact[k], 0);
    EXPECT_NEAR(r.layers[k].trace, exact[k], 0.1 * std::abs(exact[k])) << k;
  }
  EXPECT_EQ(r.layers[0].params, 27);
  // Omega falls as the bits grow.
  for (const auto& l : r.layers) {
    ASSERT_EQ(l.omega.size(), 3u);
    EXPECT_GT(l.omega[0], l.omega[1]);
    EXPECT_GT(l.omega[1], l.omega[2]);
    ASSERT_EQ(l.omega_act.size(), 3u);
    EXPECT_GT(l.omega_act[0], l.omega_act[2]);
  }
  // The input activations' traces against one Hessian-vector product per element: the conv
  // reads the images, the fc the pooled features.
  m->eval();
  const torch::Tensor input = x.clone().requires_grad_(true);
  const auto outputs = m->forward_all(input);
  const torch::Tensor loss = torch::nn::functional::cross_entropy(outputs.back().flatten(1), y);
  const std::vector<torch::Tensor> acts = {input, outputs[2]};
  for (std::size_t k = 0; k < 2; ++k) {
    const auto g = torch::autograd::grad({loss}, {acts[k]}, {}, true, true)[0].flatten();
    double trace = 0;
    for (std::int64_t j = 0; j < g.numel(); ++j)
      trace += torch::autograd::grad({g[j]}, {acts[k]}, {}, true)[0].flatten()[j].item<double>();
    EXPECT_EQ(r.layers[k].act_elements, acts[k].numel());
    // Within-image cross terms make this estimate noisier than the weights' (27% off for the
    // images at 3,000 probes with this seed): within a third, and the right sign.
    EXPECT_GT(trace, 0) << k;
    EXPECT_NEAR(r.layers[k].act_trace, trace, 0.35 * std::abs(trace)) << k;
  }
}

// The Fisher probes against the exact Fisher traces (one backward per image and class), and
// against the Hessian where they coincide: for the last layer (linear in its weights, then
// cross-entropy) the Fisher information is the Hessian.
TEST(Sensitivity, FisherProbesMatchTheExactFisherTraces) {
  const ir::Network net = tiny_network();
  seed_torch(12);
  IrNet m(net);
  const torch::Tensor x = torch::randn({32, 1, 6, 6});
  const torch::Tensor y = torch::randint(0, 4, {32}, torch::kInt64);
  const std::vector<double> exact = exact_fisher_traces(m, x);
  SensitivityOptions o;
  o.curvature = Curvature::Fisher;
  o.max_iterations = 3000, o.min_iterations = 3000;
  const SensitivityResult r = sensitivity_on(m, x, y, o);
  ASSERT_EQ(r.layers.size(), 2u);
  for (std::size_t k = 0; k < 2; ++k) {
    EXPECT_GT(exact[k], 0);
    EXPECT_NEAR(r.layers[k].trace, exact[k], 0.1 * exact[k]) << k;
    EXPECT_GT(r.layers[k].act_trace, 0) << k;
    EXPECT_GT(r.layers[k].omega[0], r.layers[k].omega[2]) << k;
  }
  // The classifier's Fisher trace is its Hessian trace (the fc has weights and a bias; the
  // exact Hessian trace counts only the weights, as does the Fisher one).
  const std::vector<double> hessian = exact_traces(m, x, y);
  EXPECT_NEAR(exact[1], hessian[1], 1e-4 * hessian[1]);
  EXPECT_EQ(sensitivity_json(m, r, o)["method"], "fisher");

  // Progress after each probe, out of the limit; traces that settle sooner end it with a last
  // call of the probes taken.
  std::vector<std::pair<int, int>> calls;
  o.max_iterations = 100, o.min_iterations = 5, o.tolerance = 10.0;
  o.progress = [&](int done, int total) { calls.emplace_back(done, total); };
  const SensitivityResult quick = sensitivity_on(m, x, y, o);
  EXPECT_TRUE(quick.converged);
  EXPECT_EQ(quick.iterations, 5);
  const std::vector<std::pair<int, int>> want = {{1, 100}, {2, 100}, {3, 100}, {4, 100}, {5, 5}};
  EXPECT_EQ(calls, want);
}

// Two convs and a classifier for the synthetic patches: small enough to retrain per layer.
ir::Network patch_network() {
  return ir::parse_description(R"(
name: patches
input: {channels: 1, height: 28, width: 28}
layers:
  - {name: c1, op: conv, out_channels: 8, kernel: 3, stride: 2, padding: 1, folded_norm: true}
  - {name: r1, op: relu}
  - {name: c2, op: conv, out_channels: 8, kernel: 3, stride: 2, padding: 1, folded_norm: true}
  - {name: r2, op: relu}
  - {name: pool, op: global_avgpool}
  - {name: fc, op: fc, out_channels: 10, bias: true}
)",
                               "patches");
}

// The measured sensitivity: validation loss increases, larger at 2 bits than at 8, the same
// twice, and the model handed back as it came (weights, buffers, bits and mode), also after a
// run that throws.
TEST(Sensitivity, MeasuredLossIncreasesFallWithTheBitsAndLeaveTheModelAsItWasEvenWhenARunThrows) {
  const data::DataSet ds = synthetic(1200, 100, 4);
  seed_torch(4);
  IrNet m(patch_network());
  TrainOptions t;
  t.epochs = 2, t.batch_size = 64, t.validation = 300, t.threads = 1, t.test = false;
  train(m, ds, t);
  std::vector<torch::Tensor> before;
  for (const auto& p : m->parameters()) before.push_back(p.detach().clone());
  for (const auto& b : m->buffers()) before.push_back(b.clone());
  const ir::Network bits_before = m->network();

  SensitivityOptions o;
  o.curvature = Curvature::Measured;
  o.bits = {2, 8};
  o.batch_size = 64, o.validation = 300, o.threads = 1;
  for (int steps : {0, 4}) {
    o.recovery_steps = steps;
    int reported = 0;
    o.progress = [&](int done, int total) {
      EXPECT_EQ(done, ++reported);
      EXPECT_EQ(total, 1 + 2 * 3 * 2);
    };
    const SensitivityResult r = layer_sensitivity(m, ds, o);
    EXPECT_EQ(reported, 13);
    ASSERT_EQ(r.layers.size(), 3u);
    double at2 = 0, at8 = 0;
    for (const auto& l : r.layers) {
      ASSERT_EQ(l.omega.size(), 2u);
      ASSERT_EQ(l.omega_act.size(), 2u);
      at2 += l.omega[0] + l.omega_act[0];
      at8 += l.omega[1] + l.omega_act[1];
      EXPECT_LT(std::abs(l.omega[1]), 0.02) << steps;  // 8-bit weights: next to nothing
    }
    EXPECT_GT(at2, at8 + 0.01) << steps;
    reported = 0;
    const SensitivityResult again = layer_sensitivity(m, ds, o);
    for (std::size_t k = 0; k < 3; ++k) {
      EXPECT_EQ(again.layers[k].omega, r.layers[k].omega) << steps;
      EXPECT_EQ(again.layers[k].omega_act, r.layers[k].omega_act) << steps;
    }
    EXPECT_EQ(sensitivity_json(m, r, o)["method"], "measured");
  }
  // A run that throws midway (here the progress callback, after the 5th run) leaves it too.
  o.progress = [](int done, int) {
    if (done == 5) throw std::runtime_error("stop");
  };
  EXPECT_THROW(layer_sensitivity(m, ds, o), std::runtime_error);
  std::size_t k = 0;
  for (const auto& p : m->parameters()) EXPECT_TRUE(p.equal(before[k++]));
  for (const auto& b : m->buffers()) EXPECT_TRUE(b.equal(before[k++]));
  for (std::size_t l = 0; l < bits_before.layers.size(); ++l) {
    EXPECT_EQ(m->network().layers[l].weight_bits, bits_before.layers[l].weight_bits);
    EXPECT_EQ(m->network().layers[l].act_bits, bits_before.layers[l].act_bits);
  }
  EXPECT_EQ(m->mode(), IrNetImpl::Mode::kFloat);
}

TEST(Train, DataThatDoesNotFitTheNetworkIsBadInput) {
  data::DataSet ds = synthetic(300, 50, 2);
  IrNet m(example());
  TrainOptions o;
  o.validation = 50;
  ds.train.classes = ds.test.classes = 12;
  try {
    train(m, ds, o);
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("has 10 outputs but synthetic has 12 classes"),
              std::string::npos)
        << e.what();
  }
  ds.train.classes = 10;
  ds.train.height = 32;
  EXPECT_THROW(train(m, ds, o), core::InputError);
}

// The stall check: a network that cannot learn (every weight zero: the loss stays at ln 10)
// stops at the check with a message saying what to try; the same network as built trains on.
TEST(Train, StallCheckStopsANetworkThatCannotLearnAndOnlyThat) {
  const data::DataSet ds = synthetic(1200, 100, 5);
  TrainOptions o;
  o.epochs = 3, o.batch_size = 64, o.validation = 200, o.threads = 1, o.seed = 3, o.test = false;
  ASSERT_EQ(stall_check_steps(16), 40);  // 1,000 training images: 16 batches an epoch
  seed_torch(o.seed);
  IrNet dead(example());
  {
    torch::NoGradGuard no_grad;
    for (auto& p : dead->parameters()) p.zero_();
  }
  try {
    train(dead, ds, o);
    FAIL() << "a network that cannot learn trained on";
  } catch (const core::RunFailure& e) {
    EXPECT_NE(std::string(e.what()).find("not learning: after 40 batches"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("--batchnorm always"), std::string::npos);
  }
  seed_torch(o.seed);
  IrNet alive(example());
  EXPECT_GT(train(alive, ds, o).val_accuracy, 0.9);
  o.stall_check = false;
  seed_torch(o.seed);
  IrNet unchecked(example());
  {
    torch::NoGradGuard no_grad;
    for (auto& p : unchecked->parameters()) p.zero_();
  }
  EXPECT_LT(train(unchecked, ds, o).val_accuracy, 0.2);  // spent every epoch at chance
}

TEST(TrainingNorms, AutoAddsThemOnlyWhereTheModelHasNone) {
  ir::Network folded = example();  // every conv carries a batch norm, the classifier none
  ir::Network bare = folded;
  for (auto& l : bare.layers) l.folded_norm = false;
  auto norms = [](const ir::Network& n) {
    int count = 0;
    for (const auto& l : n.layers) count += l.folded_norm ? 1 : 0;
    return count;
  };
  int convs = 0;
  for (const auto& l : bare.layers) convs += l.op == ir::OpKind::kConv ? 1 : 0;
  EXPECT_EQ(norms(with_training_norms(folded, TrainingNorms::kAuto)), norms(folded));
  EXPECT_EQ(norms(with_training_norms(bare, TrainingNorms::kAuto)), convs);
  EXPECT_EQ(norms(with_training_norms(bare, TrainingNorms::kNever)), 0);
  ir::Network some = bare;
  for (auto& l : some.layers)
    if (l.name == "stem") l.folded_norm = true;
  EXPECT_EQ(norms(with_training_norms(some, TrainingNorms::kAuto)), 1);  // the model has one
  EXPECT_EQ(norms(with_training_norms(some, TrainingNorms::kAlways)), convs);
  EXPECT_THROW(parse_training_norms("sometimes", "--batchnorm"), core::InputError);
}

// What a PyTorch user exports by default (eval mode: every batch norm folded into the conv
// before it) trains like the network it came from once hao gives it batch norms back.
TEST(Train, EvalModeOnnxExportLearnsWithBatchNormsAddedForTraining) {
  const ir::Network onnx = ir::load_network(std::string(HAO_FIXTURES) + "/fmnist_mbv2_eval.onnx");
  for (const auto& l : onnx.layers) EXPECT_FALSE(l.folded_norm) << l.name;
  const data::DataSet ds = data::load_dataset("fashion-mnist");
  TrainOptions o;
  o.steps = 150, o.threads = 1, o.seed = 1, o.test = false;
  seed_torch(o.seed);
  IrNet m(with_training_norms(onnx, TrainingNorms::kAuto));
  EXPECT_GT(train(m, ds, o).val_accuracy, 0.85);
}

// The weights a PyTorch export carries (tests/fixtures/make_fmnist_onnx.py), loaded into the
// network hao builds from the file, give PyTorch's own logits: batch norms folded into the
// convs (eval mode, hao's inserted ones starting as the identity) or kept as nodes (training
// mode), constant scales and shifts around a conv and a MatMul + Add linear layer, and a
// pre-activation network's norms that no conv takes (torchvision's DenseNet and residual
// blocks: each the BatchNorm2d of the activation after it), GELUs exported as Erf chains, a
// leaky ReLU (slope 0.1) and a tanh, nearest upsampling (Resize by scales and by sizes), and
// transposed convolutions (a pixel padding and a conv of the turned kernel), and dilated ones.
TEST(OnnxWeights, LoadedNetworkGivesTheFileLogitsBeforeTheFirstStep) {
  const nlohmann::json ref =
      nlohmann::json::parse(core::read_file(std::string(HAO_FIXTURES) + "/weights_reference.json"));
  const torch::Tensor x = torch::sin(0.37 * torch::arange(2 * 28 * 28, torch::kFloat64))
                              .to(torch::kFloat)
                              .view({2, 1, 28, 28});
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"fmnist_mbv2_eval_weights", "fmnist_mbv2"},
      {"fmnist_mbv2_train_weights", "fmnist_mbv2_train"},
      {"fold_constants_weights", "fold_constants"},
      {"preact_weights", "preact"},
      {"gelus_weights", "gelus"},
      {"leaky_tanh_weights", "leaky_tanh"},
      {"upsampling_weights", "upsampling"},
      {"transposed_weights", "transposed"},
      {"dilated_weights", "dilated"}};
  for (const auto& [file, key] : cases)
    for (const TrainingNorms policy :
         {TrainingNorms::kAuto, TrainingNorms::kAlways, TrainingNorms::kNever}) {
      SCOPED_TRACE(file + " policy " + std::to_string(static_cast<int>(policy)));
      ir::WeightSet weights;
      const ir::Network net =
          ir::load_network(std::string(HAO_FIXTURES) + "/" + file + ".onnx", &weights);
      EXPECT_TRUE(weights.notes.empty()) << core::join(weights.notes, "\n");
      ASSERT_FALSE(weights.empty());
      IrNet m(with_training_norms(net, policy));
      load_weights(m, weights);
      m->eval();
      torch::NoGradGuard no_grad;
      const torch::Tensor y = m->forward(x);
      ASSERT_EQ(y.sizes(), (std::vector<std::int64_t>{2, 10}));
      for (std::int64_t n = 0; n < 2; ++n) {
        const auto want = ref[key][static_cast<std::size_t>(n)].get<std::vector<float>>();
        for (std::int64_t c = 0; c < 10; ++c)
          EXPECT_NEAR(y[n][c].item<float>(), want[static_cast<std::size_t>(c)],
                      1e-4 * (1 + std::abs(want[static_cast<std::size_t>(c)])))
              << "image " << n << " class " << c;
      }
    }
}

// A file without weights loads none and says nothing; a Clip hao runs as ReLU6 is named.
TEST(OnnxWeights, NotesWhatTheLoadedNetworkDoesNotReproduce) {
  ir::WeightSet none;
  ir::load_network(std::string(HAO_FIXTURES) + "/fmnist_mbv2_eval.onnx", &none);
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(none.notes.empty());
  ir::WeightSet clip;
  ir::load_network(std::string(HAO_FIXTURES) + "/clip4_weights.onnx", &clip);
  EXPECT_FALSE(clip.empty());
  ASSERT_EQ(clip.notes.size(), 1u);
  EXPECT_NE(clip.notes[0].find("Clip to [0.000, 4.000] is run as ReLU6"), std::string::npos)
      << clip.notes[0];
  // A weight set of another network is refused, naming the layer.
  ir::WeightSet other;
  ir::load_network(std::string(HAO_FIXTURES) + "/fold_constants_weights.onnx", &other);
  IrNet m(ir::load_network(std::string(HAO_FIXTURES) + "/clip4_weights.onnx"));
  EXPECT_THROW(load_weights(m, other), core::InputError);
}

}  // namespace
}  // namespace hao::nn
