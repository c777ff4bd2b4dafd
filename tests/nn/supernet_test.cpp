#include "nn/supernet.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/text.hpp"
#include "hw/device.hpp"
#include "nn/space_supernet.hpp"
#include "nn/study_evaluator.hpp"
#include "nn/supernet_train.hpp"
#include "nn/synthetic_data.hpp"
#include "search/mbv2_domain.hpp"
#include "search/space_spec.hpp"

namespace hao::nn {
namespace {

search::Mbv2Domain default_space() {
  const search::SpaceSpec spec = search::load_space("fmnist-mbv2", HAO_EXAMPLES);
  return search::Mbv2Domain(spec.mbv2, hw::load_device("zu3eg"));
}

// The default space with NetAdaptV2's channel-level bypass: expansion 0 passes a block through.
search::Mbv2Domain bypass_space() {
  search::SpaceSpec spec = search::load_space("fmnist-mbv2", HAO_EXAMPLES);
  spec.mbv2.expansion.insert(spec.mbv2.expansion.begin(), 0);
  return search::Mbv2Domain(spec.mbv2, hw::load_device("zu3eg"));
}

// The default space whose blocks choose among MobileNetV3's operators, each with weights of its
// own (stage 2 between the plain block and squeeze-excite only).
search::Mbv2Domain pool_space() {
  search::SpaceSpec spec = search::load_space("fmnist-mbv2", HAO_EXAMPLES);
  spec.mbv2.operators = search::mbv2_operators();
  spec.mbv2.stages[2].operators = {"mbconv", "mbconv-se"};
  return search::Mbv2Domain(spec.mbv2, hw::load_device("zu3eg"));
}

// The spaces the member tests run on: the default, with bypassed blocks, with operator pools.
const char* const kSpaceNames[] = {"default space", "bypass space", "operator pools"};
search::Mbv2Domain test_space(int i) {
  return i == 0 ? default_space() : i == 1 ? bypass_space() : pool_space();
}
// Its supernet: space_supernet's for the operator pools (the other operators' layers merged
// in), the largest network alone otherwise (one input range per layer).
Supernet test_supernet(int i, const search::Mbv2Domain& d) {
  return i == 2 ? space_supernet(d) : Supernet(d.network(d.largest(), "largest"));
}

// Moves every shared tensor off its initial value (weights, batch norm scales, shifts and
// statistics) so that slicing the wrong channels or kernel taps would show.
void perturb(Supernet& s, unsigned seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& p : s->parameters()) p.add_(torch::randn_like(p) * 0.2);
  for (auto& b : s->named_buffers())
    if (b.key().find("running_mean") != std::string::npos)
      b.value().add_(torch::randn_like(b.value()) * 0.1);
    else if (b.key().find("running_var") != std::string::npos)
      b.value().mul_(torch::rand_like(b.value()) + 0.5);
}

// The reference slicing, written apart from the supernet's: each weighted layer of `alone` takes
// the largest network's first output channels, first input channels and the centre of its
// kernel, by index.
void copy_reference_slice(const IrNet& largest, IrNet& alone) {
  using torch::indexing::Slice;
  torch::NoGradGuard no_grad;
  const ir::Network& big = largest->network();
  for (std::size_t i = 0; i < alone->network().layers.size(); ++i) {
    const ir::Layer& m = alone->network().layers[i];
    if (!m.has_weights()) continue;
    const std::size_t j = static_cast<std::size_t>(big.find(m.name));
    const ir::Layer& l = big.layers[j];
    const torch::Tensor w = largest->weight(j);
    alone->range(i).copy_(largest->range(j));
    if (m.op == ir::OpKind::kFc) {
      alone->weight(i).copy_(w.index({Slice(0, m.out.c), Slice(0, m.in.elements())}));
      if (alone->fc(i)->options.bias())
        alone->fc(i)->bias.copy_(largest->fc(j)->bias.index({Slice(0, m.out.c)}));
      continue;
    }
    const std::int64_t top = (l.kernel_h - m.kernel_h) / 2, left = (l.kernel_w - m.kernel_w) / 2;
    alone->weight(i).copy_(w.index({Slice(0, m.out.c), Slice(0, m.in.c / m.groups),
                                    Slice(top, top + m.kernel_h), Slice(left, left + m.kernel_w)}));
    if (alone->conv(i)->options.bias())  // squeeze-excite's convs: a bias, no batch norm
      alone->conv(i)->bias.copy_(largest->conv(j)->bias.index({Slice(0, m.out.c)}));
    const auto& from = largest->norm(j);
    const auto& to = alone->norm(i);
    if (!to) continue;
    to->weight.copy_(from->weight.index({Slice(0, m.out.c)}));
    to->bias.copy_(from->bias.index({Slice(0, m.out.c)}));
    to->running_mean.copy_(from->running_mean.index({Slice(0, m.out.c)}));
    to->running_var.copy_(from->running_var.index({Slice(0, m.out.c)}));
  }
}

// Every member of the default space runs on the supernet exactly as the same network built on
// its own with its slice of the weights copied in (by the reference slicing above, and by
// Supernet::extract): in float evaluation and quantization-aware at the member's bits (4 or 8
// per block), for random depths, widths, kernels and expansions; and in the same space with
// bypassed blocks (expansion 0), whose members skip those blocks' slices; and in the space of
// operator pools, whose members take each block's slice from its operator's own weights.
TEST(Supernet, EveryMemberEqualsItsStandaloneNetworkWithTheSlicedWeights) {
  for (const int space : {0, 1, 2}) {
    SCOPED_TRACE(kSpaceNames[space]);
    const search::Mbv2Domain d = test_space(space);
    Supernet s = test_supernet(space, d);
    perturb(s, 3);
    search::Rng rng(7);
    const torch::Tensor x = torch::randn({4, 1, 28, 28});
    for (int trial = 0; trial < 12; ++trial) {
      const search::Genotype g = trial == 0   ? d.largest()
                                 : trial == 1 ? d.smallest()
                                              : d.random(rng);
      const ir::Network member = d.network(g, "member");
      SCOPED_TRACE(d.label(g));
      ASSERT_NO_THROW(s->check_member(member));
      s->eval();
      s->set_mode(IrNetImpl::Mode::kFloat);
      IrNet alone(member);
      copy_reference_slice(s->largest_module(), alone);
      alone->eval();
      IrNet extracted = s->extract(member);
      extracted->eval();
      const torch::Tensor y = s->forward(member, x);
      EXPECT_EQ(y.sizes(), (std::vector<std::int64_t>{4, 10}));
      EXPECT_TRUE(torch::allclose(y, alone->forward(x), 1e-4, 1e-5));
      EXPECT_TRUE(torch::allclose(y, extracted->forward(x), 1e-4, 1e-5));
      // Quantization-aware: ranges calibrated on the member, then fake-quantized at its bits.
      s->set_mode(IrNetImpl::Mode::kCalibrate);
      s->forward(member, x);
      s->set_mode(IrNetImpl::Mode::kQuantized);
      IrNet quantized(member);
      quantized->set_mode(IrNetImpl::Mode::kQuantized);
      copy_reference_slice(s->largest_module(), quantized);
      quantized->eval();
      // space_supernet keeps a range per bit choice (the reference copies the stored layer's
      // own): there the member extracted at its bits stands for it.
      IrNet at_bits = s->extract(member);
      at_bits->eval();
      EXPECT_TRUE(torch::allclose(s->forward(member, x),
                                  space == 2 ? at_bits->forward(x) : quantized->forward(x), 1e-4,
                                  1e-5));
    }
  }
}

// Ordered dropout's pass: every example through its own member in one forward, each row what
// that member computes alone, in float and quantization-aware at the members' bits, on the
// default space, with bypassed blocks and with operator pools; its gradient reaches only the
// members' slices (not another operator's weights).
TEST(Supernet, OrderedDropoutRunsEveryExampleThroughItsOwnMember) {
  for (const int space : {0, 1, 2}) {
    SCOPED_TRACE(kSpaceNames[space]);
    const search::Mbv2Domain d = test_space(space);
    Supernet s = test_supernet(space, d);
    perturb(s, 5);
    search::Rng rng(11);
    std::vector<ir::Network> members{d.network(d.smallest(), "smallest")};
    for (int k = 0; k < 5; ++k)
      members.push_back(d.network(d.random(rng), "m" + std::to_string(k)));
    std::vector<const ir::Network*> each;  // 8 examples: some members twice, one not at all
    for (std::size_t b : {0, 1, 2, 1, 3, 4, 0, 2}) each.push_back(&members[b]);
    const torch::Tensor x = torch::randn({8, 1, 28, 28});
    s->eval();
    for (const auto mode : {IrNetImpl::Mode::kFloat, IrNetImpl::Mode::kQuantized}) {
      if (mode == IrNetImpl::Mode::kQuantized) {
        s->set_mode(IrNetImpl::Mode::kCalibrate);
        for (const auto& m : members) s->forward(m, x);
      }
      s->set_mode(mode);
      const torch::Tensor y = s->forward_each(each, x);
      ASSERT_EQ(y.sizes(), (std::vector<std::int64_t>{8, 10}));
      for (std::int64_t b = 0; b < 8; ++b) {
        const torch::Tensor alone =
            s->forward(*each[static_cast<std::size_t>(b)], x.narrow(0, b, 1));
        EXPECT_TRUE(torch::allclose(y.narrow(0, b, 1), alone, 1e-4, 1e-5))
            << "example " << b << " mode " << static_cast<int>(mode);
      }
    }
    // Training: channels no member has get no gradient (the largest's head conv is 128 wide;
    // a member narrower than the largest at stage 3 reads fewer of its input channels).
    s->train();
    s->set_mode(IrNetImpl::Mode::kFloat);
    s->zero_grad();
    const std::vector<const ir::Network*> narrow(8, &members[0]);  // all the smallest
    s->forward_each(narrow, x).sum().backward();
    const ir::Network& big = s->largest_module()->network();
    const std::size_t head = static_cast<std::size_t>(big.find("head"));
    const std::int64_t read =
        members[0].layers[static_cast<std::size_t>(members[0].find("head"))].in.c;
    ASSERT_LT(read, big.layers[head].in.c);
    const torch::Tensor g = s->largest_module()->weight(head).grad();
    ASSERT_TRUE(g.defined());
    EXPECT_GT(g.narrow(1, 0, read).abs().sum().item<double>(), 0);
    EXPECT_EQ(g.narrow(1, read, big.layers[head].in.c - read).abs().sum().item<double>(), 0);
    if (space != 2) continue;
    // The smallest takes the plain block everywhere: the other operators' weights are untouched.
    std::size_t others = 0;
    for (std::size_t i = 0; i < big.layers.size(); ++i) {
      const std::string& name = big.layers[i].name;
      if (!big.layers[i].has_weights() || name.find("_mbconv-") == std::string::npos) continue;
      const torch::Tensor gw = s->largest_module()->weight(i).grad();
      EXPECT_TRUE(!gw.defined() || gw.abs().sum().item<double>() == 0) << name;
      ++others;
    }
    EXPECT_GT(others, 20u);
  }
}

// Training a member moves only its slice: the largest network's channels beyond the member's
// width get no gradient, and its batch norms' running statistics change only in the first
// channels.
TEST(Supernet, ATrainingStepOnAMemberTouchesOnlyItsSlice) {
  const search::Mbv2Domain d = default_space();
  Supernet s(d.network(d.largest(), "largest"));
  search::Genotype g = d.largest();
  for (std::size_t k = 0; k < d.slots().size(); ++k)
    if (d.slots()[k].name == "s3.width") g[k] = 0;  // stage 4 at half width
  const ir::Network member = d.network(g, "member");
  s->train();
  const IrNet largest = s->largest_module();
  std::size_t project = 0;
  for (std::size_t i = 0; i < largest->network().layers.size(); ++i)
    if (largest->network().layers[i].name == "s3b0_project") project = i;
  const std::int64_t narrow =
      member.layers[static_cast<std::size_t>(member.find("s3b0_project"))].out.c;
  const std::int64_t wide = largest->network().layers[project].out.c;
  ASSERT_LT(narrow, wide);
  const torch::Tensor mean_before = largest->norm(project)->running_mean.clone();
  const torch::Tensor loss = torch::nn::functional::cross_entropy(
      s->forward(member, torch::randn({8, 1, 28, 28})), torch::randint(0, 10, {8}));
  loss.backward();
  const torch::Tensor grad = largest->weight(project).grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_GT(grad.narrow(0, 0, narrow).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(grad.narrow(0, narrow, wide - narrow).abs().sum().item<double>(), 0.0);
  const torch::Tensor mean_after = largest->norm(project)->running_mean;
  EXPECT_FALSE(torch::equal(mean_after.narrow(0, 0, narrow), mean_before.narrow(0, 0, narrow)));
  EXPECT_TRUE(torch::equal(mean_after.narrow(0, narrow, wide - narrow),
                           mean_before.narrow(0, narrow, wide - narrow)));
}

// A network that is no slice of the largest: one message per layer, naming it and the value.
TEST(Supernet, ANetworkThatIsNoSliceIsBadInputNamingTheLayer) {
  const search::Mbv2Domain d = default_space();
  search::Genotype small = d.largest();
  for (std::size_t k = 0; k < d.slots().size(); ++k)
    if (d.slots()[k].name == "s1.width") small[k] = 0;
  Supernet s(d.network(small, "narrow"));
  try {
    s->check_member(d.network(d.largest(), "wide"));
    FAIL();
  } catch (const core::InputError& e) {
    const std::string all = e.what();
    EXPECT_NE(all.find("s1b0_project"), std::string::npos) << all;
    EXPECT_NE(all.find("output channels 24 cannot be sliced from the largest network's 12"),
              std::string::npos)
        << all;
  }
  ir::Network renamed = d.network(small, "renamed");
  renamed.layers[0].name = "stem_x";
  EXPECT_THROW(s->check_member(renamed), core::InputError);
  // Run on the supernet or extracted, such a network is the same bad input, not a crash.
  EXPECT_THROW(s->forward(d.network(d.largest(), "wide"), torch::randn({1, 1, 28, 28})),
               core::InputError);
  EXPECT_THROW(s->extract(renamed), core::InputError);
}

// With operator pools, the layers every operator's network shares (stem, head, classifier) and
// the largest's own keep the ranges the largest network's calibration gives them: the other
// operators' networks set only their own layers' ranges.
TEST(Supernet, OtherOperatorsCalibrateOnlyTheirOwnLayers) {
  const search::Mbv2Domain d = pool_space();
  Supernet pools = space_supernet(d);
  perturb(pools, 9);
  Supernet alone(d.network(d.largest(), "largest"), d.spec().bits);
  {
    torch::NoGradGuard no_grad;  // the largest's tensors, by name
    const ir::Network& u = pools->largest_module()->network();
    const ir::Network& l = alone->largest_module()->network();
    for (std::size_t i = 0; i < l.layers.size(); ++i) {
      if (!l.layers[i].has_weights()) continue;
      const auto j = static_cast<std::size_t>(u.find(l.layers[i].name));
      alone->largest_module()->weight(i).copy_(pools->largest_module()->weight(j));
      if (const auto& bn = alone->largest_module()->norm(i)) {
        const auto& from = pools->largest_module()->norm(j);
        bn->weight.copy_(from->weight);
        bn->bias.copy_(from->bias);
        bn->running_mean.copy_(from->running_mean);
        bn->running_var.copy_(from->running_var);
      }
      if (const auto& conv = alone->largest_module()->conv(i); conv && conv->options.bias())
        conv->bias.copy_(pools->largest_module()->conv(j)->bias);
      if (const auto& fc = alone->largest_module()->fc(i))
        fc->bias.copy_(pools->largest_module()->fc(j)->bias);
    }
  }
  const data::DataSet ds = test::synthetic(64, 8, 4);
  const Normalization norm = normalization_of(ds.train);
  std::vector<std::size_t> order(64);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  pools->calibrate(ds.train, norm, order, 64, 32);
  alone->calibrate(ds.train, norm, order, 64, 32);
  const ir::Network& u = pools->largest_module()->network();
  const ir::Network& l = alone->largest_module()->network();
  const search::Genotype g = with_uniform_bits(d, d.largest(), 4, "test");
  for (const ir::Network& member : {d.network(g, "b4"), d.network(d.largest(), "b8")}) {
    IrNet from_pools = pools->extract(member), from_alone = alone->extract(member);
    for (std::size_t i = 0; i < member.layers.size(); ++i) {
      if (!member.layers[i].has_weights()) continue;
      EXPECT_TRUE(torch::equal(from_pools->range(i), from_alone->range(i)))
          << member.layers[i].name;
    }
  }
  EXPECT_GT(u.layers.size(), 2 * l.layers.size());
}

// With ranges per bit choice (the space's supernet), a member at 4 bits reads the 4-bit ranges
// and one at 8 bits the 8-bit ones; each still equals its standalone network built with that
// slice, and the two ranges differ (a 4-bit clip is tighter).
TEST(Supernet, MembersReadTheRangesOfTheirBits) {
  const search::Mbv2Domain d = default_space();
  Supernet s = space_supernet(d);
  perturb(s, 5);
  const data::DataSet ds = test::synthetic(64, 8, 2);
  const Normalization norm = normalization_of(ds.train);
  std::vector<std::size_t> order(64);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  s->eval();
  s->calibrate(ds.train, norm, order, 64, 32);
  ASSERT_EQ(s->mode(), IrNetImpl::Mode::kQuantized);
  const torch::Tensor x = batch_of(ds.train, {0, 1, 2, 3}, norm).first;
  search::Rng rng(11);
  const search::Genotype g = d.random(rng);
  std::vector<torch::Tensor> ranges;
  for (int bits : {4, 8}) {
    const ir::Network member =
        d.network(with_uniform_bits(d, g, bits, "test"), "b" + std::to_string(bits));
    IrNet alone = s->extract(member);
    alone->eval();
    EXPECT_TRUE(torch::allclose(s->forward(member, x), alone->forward(x), 1e-4, 1e-5)) << bits;
    const int last_conv = member.find("head");
    ASSERT_GE(last_conv, 0);
    ranges.push_back(alone->range(static_cast<std::size_t>(last_conv)).clone());
  }
  EXPECT_LT(ranges[0][1].item<double>(), ranges[1][1].item<double>());
}

// Bits for every block: one of the space's choices, or bad input naming the choices; blocks
// past a stage's depth keep choice 0 (the genotype stays valid).
TEST(SpaceSupernet, UniformBitsAreTheSpacesChoicesOnly) {
  const search::Mbv2Domain d = default_space();
  search::Rng rng(2);
  const search::Genotype g = with_uniform_bits(d, d.random(rng), 4, "--bits");
  EXPECT_TRUE(d.valid(g));
  EXPECT_EQ(d.label(g).find("b8"), std::string::npos) << d.label(g);
  try {
    with_uniform_bits(d, g, 6, "--bits");
    FAIL() << "6 bits accepted";
  } catch (const core::InputError& e) {
    EXPECT_STREQ(e.what(), "--bits: bits 6 are not among the space's choices (4, 8)");
  }
}

// A supernet checkpoint: the same weights and ranges after a round trip; refused with one
// message naming the file for another space (one choice more), a network's checkpoint, a
// truncated file; the kept file name depends on the space and on every training setting.
TEST(SpaceSupernet, CheckpointCarriesTheSpaceAndIsRefusedForAnother) {
  const search::Mbv2Domain d = default_space();
  const std::string path = ::testing::TempDir() + "space_supernet.pt";
  Supernet s = space_supernet(d);
  perturb(s, 9);
  SupernetInfo info;
  info.space = "fmnist-mbv2";
  info.signature = space_signature(d.spec());
  info.training = training_json(SupernetTrainOptions{});
  info.quantized = true;
  save_supernet(s, info, path);
  Supernet back = space_supernet(d);
  const SupernetInfo read = load_supernet(back, d, path);
  EXPECT_EQ(read.space, "fmnist-mbv2");
  EXPECT_TRUE(read.quantized);
  EXPECT_EQ(back->mode(), IrNetImpl::Mode::kQuantized);
  const auto a = s->named_parameters(), b = back->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::equal(a[i].value(), b[i].value())) << a[i].key();
  const auto ab = s->named_buffers(), bb = back->named_buffers();
  ASSERT_EQ(ab.size(), bb.size());
  for (std::size_t i = 0; i < ab.size(); ++i)
    EXPECT_TRUE(torch::equal(ab[i].value(), bb[i].value())) << ab[i].key();

  auto refused = [&](const search::Mbv2Domain& domain, const std::string& file,
                     const std::string& says) {
    Supernet other = space_supernet(domain);
    try {
      load_supernet(other, domain, file);
      ADD_FAILURE() << file << " accepted";
    } catch (const core::InputError& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
  };
  search::Mbv2Spec wider = d.spec();
  wider.width.push_back(1.25);
  const search::Mbv2Domain other_space(wider, hw::load_device("zu3eg"));
  refused(other_space, path, path + ": a supernet of space 'fmnist-mbv2', whose dimensions differ");
  IrNet alone(d.network(d.smallest()));
  save_checkpoint(alone, path + ".net");
  refused(d, path + ".net", "not a hao supernet checkpoint (no space signature");
  std::ofstream(path + ".cut", std::ios::binary) << core::read_file(path).substr(0, 4000);
  refused(d, path + ".cut", path + ".cut: not a hao supernet checkpoint");

  SupernetTrainOptions more;
  more.steps += 1;
  EXPECT_NE(supernet_file_name(d.spec(), more), supernet_file_name(d.spec(), {}));
  EXPECT_NE(supernet_file_name(wider, {}), supernet_file_name(d.spec(), {}));
  EXPECT_EQ(supernet_file_name(d.spec(), {}), supernet_file_name(d.spec(), {}));
  SupernetTrainOptions distilled;
  distilled.distillation = 1;
  EXPECT_NE(supernet_file_name(d.spec(), distilled), supernet_file_name(d.spec(), {}));
  // Supernets kept before the share was a setting distilled alone.
  nlohmann::json older = training_json(SupernetTrainOptions{});
  older.erase("distillation");
  EXPECT_EQ(training_from_json(older, "older").distillation, 1.0);
  EXPECT_EQ(training_from_json(training_json(distilled), "new").distillation, 1.0);
  // The mode is a setting only where it is not the sandwich rule (kept names unchanged).
  SupernetTrainOptions single;
  single.mode = SupernetMode::kSinglePath;
  EXPECT_FALSE(training_json(SupernetTrainOptions{}).contains("mode"));
  EXPECT_NE(supernet_file_name(d.spec(), single), supernet_file_name(d.spec(), {}));
  EXPECT_EQ(training_from_json(training_json(single), "new").mode, SupernetMode::kSinglePath);
  nlohmann::json odd = training_json(single);
  odd["mode"] = "ordered";
  EXPECT_THROW(training_from_json(odd, "odd"), core::InputError);
}
}  // namespace
}  // namespace hao::nn

namespace hao::nn {
namespace {

// A supernet of `d` trained from seed o.seed for `steps` float steps with options `o`.
std::pair<Supernet, SupernetTrainResult> train_from_seed(const search::Mbv2Domain& d,
                                                         const data::DataSet& ds,
                                                         const SupernetTrainOptions& o,
                                                         const MemberSampler& sample, long steps) {
  seed_torch(o.seed);
  Supernet s(d.network(d.largest(), "largest"));
  SupernetTrainOptions with = o;
  with.steps = steps;
  const SupernetTrainResult r =
      train_supernet(s, d.network(d.smallest(), "smallest"), sample, ds, with);
  return {s, r};
}

// A trained supernet's members of the mode's tests: 120 steps of 32 synthetic images on one
// thread, each sample counted in `drawn`; then three members drawn at random judged against
// the same members of an untrained supernet, each well above it; and the same seed twice gives
// the same weights.
SupernetTrainResult expect_members_learn(SupernetMode mode, int& drawn) {
  const search::Mbv2Domain d = default_space();
  const data::DataSet ds = test::synthetic(1200, 100, 5);
  SupernetTrainOptions o;
  o.mode = mode;
  o.steps = 120;
  o.batch_size = 32;
  o.validation = 300;
  o.threads = 1;
  const MemberSampler sample = [&](std::mt19937_64& rng) {
    ++drawn;
    return d.network(d.random(rng));
  };
  auto run = [&](long steps) { return train_from_seed(d, ds, o, sample, steps); };
  auto [s, r] = run(o.steps);
  EXPECT_EQ(r.steps, o.steps);
  const data::Split split = data::split(ds.train.size(), o.validation, o.seed);
  const Normalization norm = normalization_of(ds.train);
  const std::vector<std::size_t> recal(split.train.begin(), split.train.begin() + 500);
  seed_torch(o.seed);
  const Supernet untrained(d.network(d.largest(), "largest"));
  search::Rng rng(3);
  for (int k = 0; k < 3; ++k) {
    const ir::Network member = d.network(d.random(rng), "member");
    const double before =
        member_accuracy(untrained, member, ds.train, norm, recal, split.validation);
    const double after = member_accuracy(s, member, ds.train, norm, recal, split.validation);
    EXPECT_GT(after, before + 0.1) << before << " -> " << after;
  }
  const int counted = drawn;
  auto [one, r1] = run(3);
  auto [two, r2] = run(3);
  drawn = counted;
  EXPECT_EQ(r1.final_loss, r2.final_loss);
  EXPECT_TRUE(torch::equal(one->largest_module()->weight(0), two->largest_module()->weight(0)));
  return r;
}

// The sandwich rule on a learnable synthetic set: after 40 steps the largest and the smallest
// member classify well (judged with recalibrated batch norms on held-out images), a random
// member inherits weights that work, and the same seed gives the same weights.
TEST(SupernetTrain, SandwichTrainingTeachesEveryMemberAndIsDeterministic) {
  const search::Mbv2Domain d = default_space();
  const data::DataSet ds = test::synthetic(1200, 100, 5);
  SupernetTrainOptions o;
  o.steps = 40;
  o.batch_size = 32;
  o.random_members = 1;
  o.validation = 300;
  o.threads = 1;
  const MemberSampler sample = [&](std::mt19937_64& rng) { return d.network(d.random(rng)); };
  auto run = [&](long steps) { return train_from_seed(d, ds, o, sample, steps); };
  auto [s, r] = run(o.steps);
  EXPECT_EQ(r.steps, o.steps);
  EXPECT_GT(r.largest_val_accuracy, 0.8);
  EXPECT_GT(r.smallest_val_accuracy, 0.6);
  const data::Split split = data::split(ds.train.size(), o.validation, o.seed);
  const Normalization norm = normalization_of(ds.train);
  const std::vector<std::size_t> recal(split.train.begin(), split.train.begin() + 500);
  // A member drawn at random, far from both ends, inherits weights that work: after 40 steps
  // (each training one random member) well above what the same member gets untrained.
  search::Rng rng(3);
  const ir::Network member = d.network(d.random(rng), "member");
  seed_torch(o.seed);
  const Supernet untrained(d.network(d.largest(), "largest"));
  const double before = member_accuracy(untrained, member, ds.train, norm, recal, split.validation);
  const double after = member_accuracy(s, member, ds.train, norm, recal, split.validation);
  EXPECT_GT(after, before + 0.1) << before << " -> " << after;
  SupernetTrainOptions too_much = o;
  too_much.distillation = 1.5;
  EXPECT_THROW(train_supernet(s, d.network(d.smallest(), "smallest"), sample, ds, too_much),
               core::InputError);
  // Deterministic per seed and thread count, with both losses.
  o.distillation = 0.5;
  auto [one, r1] = run(3);
  auto [two, r2] = run(3);
  EXPECT_EQ(r1.final_loss, r2.final_loss);
  EXPECT_TRUE(torch::equal(one->largest_module()->weight(0), two->largest_module()->weight(0)));
}

// Single-path training (SPOS): one member drawn uniformly per step, a quarter of the sandwich's
// forward passes at random_members 2; in as many member passes as the sandwich test's (120) its
// members learn too (after 60 they were still near chance), deterministically per seed.
TEST(SupernetTrain, SinglePathTrainingTeachesDrawnMembersAndIsDeterministic) {
  int drawn = 0;
  const SupernetTrainResult r = expect_members_learn(SupernetMode::kSinglePath, drawn);
  EXPECT_EQ(drawn, 120);                   // one member a step, nothing else
  EXPECT_GT(r.largest_val_accuracy, 0.5);  // the largest, though never drawn whole
  EXPECT_THROW(parse_supernet_mode("ordered"), core::InputError);
}

// Ordered dropout (NetAdaptV2): every example through its own member in one pass, the
// largest, the smallest and two drawn members a quarter of the batch each; in as many steps as
// the single-path test (after 60 one random member of three was still near chance) its members
// learn, deterministically per seed.
TEST(SupernetTrain, OrderedDropoutTrainingTeachesEveryExamplesMemberAndIsDeterministic) {
  int drawn = 0;
  const SupernetTrainResult r = expect_members_learn(SupernetMode::kOrderedDropout, drawn);
  EXPECT_EQ(drawn, 120 * 2);  // random_members a step: the examples share the step's members
  EXPECT_GT(r.largest_val_accuracy, 0.6);
  EXPECT_GT(r.smallest_val_accuracy, 0.5);
  EXPECT_EQ(parse_supernet_mode("ordered-dropout"), SupernetMode::kOrderedDropout);
  EXPECT_EQ(supernet_mode_name(SupernetMode::kOrderedDropout), "ordered-dropout");
}

// The quantization-aware phase: after it every member runs at its bits (4 or 8 per block) and
// the two ends, judged at their bits with their own ranges, still classify the synthetic set
// (a shared, folded batch norm made them guess: the phase trains on batch statistics).
TEST(SupernetTrain, QuantizationAwarePhaseKeepsMembersAccurateAtTheirBits) {
  const search::Mbv2Domain d = default_space();
  const data::DataSet ds = test::synthetic(1000, 100, 4);
  SupernetTrainOptions o;
  o.steps = 30;
  o.qat_steps = 8;
  o.batch_size = 32;
  o.random_members = 1;
  o.validation = 300;
  o.calibration_images = 128;
  o.threads = 1;
  seed_torch(o.seed);
  Supernet s = space_supernet(d);
  const SupernetTrainResult r = train_space_supernet(s, d, ds, o);
  EXPECT_EQ(r.steps, 30);
  EXPECT_EQ(r.qat_steps, 8);
  EXPECT_EQ(s->mode(), IrNetImpl::Mode::kQuantized);
  EXPECT_GT(r.largest_val_accuracy, 0.8);
  EXPECT_GT(r.smallest_val_accuracy, 0.5);
}

}  // namespace
}  // namespace hao::nn
