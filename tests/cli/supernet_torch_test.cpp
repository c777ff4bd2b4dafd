// hao supernet and hao search on its supernet as a user runs them (label `torch`): a
// supernet trained, judged, exported and measured by hao train; a search that trains it once
// and a second search, for another device, that reuses it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/app.hpp"
#include "cli/run_hao.hpp"
#include "core/csv.hpp"
#include "core/text.hpp"
#include "nn/supernet_memo.hpp"

namespace hao::cli {
namespace {

namespace fs = std::filesystem;
using test::hao;
using test::HaoRun;

// A two-stage space: quick to train, still every dimension (depth, width, kernel, expansion,
// bits).
std::string small_space(const std::string& dir) {
  const std::string space = dir + "/two.yaml";
  std::ofstream(space) << "name: two\nkind: mbv2\ndata: fashion-mnist\n"
                          "stages: [{channels: 16, stride: 2}, {channels: 24, stride: 2}]\n"
                          "choices: {depth: [1, 2], width: [0.5, 1.0], kernel: [3, 5], "
                          "expansion: [1, 3], bits: [4, 8]}\n";
  return space;
}

// hao search on `space`'s supernet for a zu9eg, trained and judged as briefly as a test can,
// with a strategy's own options (`own`) after.
std::vector<std::string> brief_search(const std::string& space, const std::string& db,
                                      const std::string& out, const std::string& budget,
                                      const std::vector<std::string>& own) {
  std::vector<std::string> args{"search", "--space",
                                space,    "--device",
                                "zu9eg",  "--budget",
                                budget,   "--storage",
                                db,       "--supernet-steps",
                                "6",      "--supernet-qat-steps",
                                "2",      "--validation",
                                "300",    "--recalibration-images",
                                "100",    "--finalists",
                                "1",      "--final-steps",
                                "2",      "--final-qat-steps",
                                "1",      "--threads",
                                "1",      "--out",
                                out};
  args.insert(args.end(), own.begin(), own.end());
  return args;
}

double number_after(const std::string& text, const std::string& key) {
  const auto at = text.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + key.size()));
}

// `genotype` judged in float on the supernet `ckpt` of `space`, then exported to DIR/net.pt
// (model.yaml beside it) and measured by hao train from that checkpoint without training:
// {judged, measured}, validation accuracies in percent.
std::pair<double, double> judge_then_measure_export(const std::string& space,
                                                    const std::string& ckpt,
                                                    const std::string& genotype,
                                                    const std::string& dir) {
  HaoRun in_float = hao({"supernet", "eval", "--space", space, "--checkpoint", ckpt, "--genotype",
                         genotype, "--float", "--threads", "1"});
  EXPECT_EQ(in_float.code, kExitOk) << in_float.err;
  HaoRun e = hao({"supernet", "export", "--space", space, "--checkpoint", ckpt, "--genotype",
                  genotype, "--out", dir + "/net.pt"});
  EXPECT_EQ(e.code, kExitOk) << e.err;
  HaoRun m = hao({"train", dir + "/model.yaml", "--init", dir + "/net.pt", "--epochs", "0",
                  "--validation", "500", "--threads", "1"});
  EXPECT_EQ(m.code, kExitOk) << m.err;
  return {number_after(in_float.out, "validation accuracy "),
          number_after(m.out, "float:     validation accuracy ")};
}

// Trained, judged at the bits and in float; exported, the network's own checkpoint measures in
// hao train exactly what the supernet judged in float on the same validation images.
TEST(SupernetTorch, TrainEvalExportAndTheExportMeasuresTheSame) {
  const std::string dir = ::testing::TempDir() + "supernet_cli";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string space = small_space(dir), ckpt = dir + "/two.supernet.pt";
  HaoRun t =
      hao({"supernet", "train", "--space", space, "--steps", "30", "--qat-steps", "6",
           "--validation", "500", "--threads", "1", "--out", ckpt, "--json", dir + "/train.json"});
  ASSERT_EQ(t.code, kExitOk) << t.err;
  EXPECT_NE(t.out.find("supernet written to " + ckpt), std::string::npos);
  const nlohmann::json tj = nlohmann::json::parse(core::read_file(dir + "/train.json"));
  EXPECT_EQ(tj["training"]["qat_steps"], 6);
  EXPECT_TRUE(tj["quantized"].get<bool>());
  EXPECT_GT(tj["result"]["largest_val_accuracy"].get<double>(), 0.2);  // chance is 0.1

  const std::string genotype = "s0:d2,w1|k5e3b4|k3e1b8;s1:d1,w0.5|k3e3b4;head:b8";
  HaoRun at_bits = hao({"supernet", "eval", "--space", space, "--checkpoint", ckpt, "--genotype",
                        genotype, "--threads", "1"});
  ASSERT_EQ(at_bits.code, kExitOk) << at_bits.err;
  EXPECT_NE(at_bits.out.find("at its bits (500 images; batch norms re-estimated on 1000)"),
            std::string::npos)
      << at_bits.out;
  HaoRun fewer = hao({"supernet", "eval", "--space", space, "--checkpoint", ckpt, "--genotype",
                      genotype, "--recalibration-images", "200", "--threads", "1"});
  ASSERT_EQ(fewer.code, kExitOk) << fewer.err;
  EXPECT_NE(fewer.out.find("re-estimated on 200)"), std::string::npos) << fewer.out;
  const auto [judged, measured] = judge_then_measure_export(space, ckpt, genotype, dir);
  EXPECT_GT(judged, 20.0);
  ASSERT_TRUE(fs::exists(dir + "/model.yaml"));
  EXPECT_DOUBLE_EQ(measured, judged);

  // Bad input: exit 2, one message naming the value.
  auto bad = [&](std::vector<std::string> args, const std::string& says) {
    HaoRun r = hao(args);
    EXPECT_EQ(r.code, kExitBadInput) << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
  };
  bad({"supernet", "eval", "--space", space, "--checkpoint", ckpt, "--genotype", "s0:d3"},
      "expected 3 ';'-separated parts");
  bad({"supernet", "eval", "--space", space, "--checkpoint", ckpt, "--genotype", "largest",
       "--bits", "2"},
      "--bits: bits 2 are not among the space's choices (4, 8)");
  bad({"supernet", "eval", "--space", space, "--checkpoint", ckpt, "--genotype", "largest",
       "--recalibration-images", "0"},
      "--recalibration-images");
  bad({"supernet", "eval", "--checkpoint", ckpt, "--genotype", "largest"},
      "a supernet of space 'two', whose dimensions differ from this space's");
  bad({"supernet", "eval", "--space", space, "--checkpoint", dir + "/net.pt", "--genotype",
       "largest"},
      "not a hao supernet checkpoint (no space signature");
  std::ofstream(dir + "/damaged.pt") << core::read_file(ckpt).substr(0, 5000);
  bad({"supernet", "eval", "--space", space, "--checkpoint", dir + "/damaged.pt", "--genotype",
       "largest"},
      "damaged.pt: not a hao supernet checkpoint");
  bad({"supernet", "train", "--space", "nb201"}, "a supernet needs a generative (kind mbv2) space");
}

// Operator pools as a user meets them: a space whose blocks choose among MobileNetV3's
// operators trains its supernet (each operator's own weights), judges and exports a member with
// squeeze-excite and hard-swish blocks, whose export measures in hao train what the supernet
// judged; HURRICANE prices every kernel x expansion x operator and keeps its best.
TEST(SupernetTorch, OperatorPoolsTrainJudgeExportAndHurricaneSelectsAmongThem) {
  const std::string dir = ::testing::TempDir() + "supernet_pools";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string space = dir + "/pools.yaml", ckpt = dir + "/pools.supernet.pt";
  std::ofstream(space) << "name: pools\nkind: mbv2\ndata: fashion-mnist\n"
                          "stages: [{channels: 16, stride: 2}, {channels: 24, stride: 2, "
                          "operators: [mbconv, mbconv-se]}]\n"
                          "choices: {depth: [1, 2], width: [0.5, 1.0], kernel: [3, 5], "
                          "expansion: [1, 3], bits: [4, 8], operators: [mbconv, mbconv-hswish, "
                          "mbconv-se, mbconv-se-hswish]}\n";
  HaoRun t = hao({"supernet", "train", "--space", space, "--steps", "20", "--qat-steps", "4",
                  "--validation", "500", "--threads", "1", "--out", ckpt});
  ASSERT_EQ(t.code, kExitOk) << t.err;
  const std::string genotype =
      "s0:d2,w1|k5e3b4/mbconv-se-hswish|k3e1b8/mbconv-hswish;s1:d1,w0.5|k3e3b4/mbconv-se;head:b8";
  const auto [judged, measured] = judge_then_measure_export(space, ckpt, genotype, dir);
  EXPECT_GT(judged, 15.0);
  const std::string model = core::read_file(dir + "/model.yaml");
  EXPECT_NE(model.find("s0b0_mbconv-se-hswish_se_scale"), std::string::npos);
  EXPECT_NE(model.find("hard_swish"), std::string::npos);
  EXPECT_DOUBLE_EQ(measured, judged);
  // An operator the stage's pool lacks: exit 2 naming it.
  std::string foreign = genotype;
  foreign.replace(foreign.find("/mbconv-se;"), 10, "/mbconv-hswish");
  HaoRun bad = hao({"supernet", "eval", "--space", space, "--checkpoint", ckpt, "--genotype",
                    foreign, "--threads", "1"});
  EXPECT_EQ(bad.code, kExitBadInput);
  EXPECT_NE(bad.err.find("mbconv-hswish"), std::string::npos) << bad.err;

  const HaoRun h =
      hao(brief_search(space, dir + "/s.db", dir + "/rep", "4",
                       {"--strategy", "hurricane", "--operators", "3", "--population", "2"}));
  ASSERT_EQ(h.code, kExitOk) << h.err;
  const core::CsvTable ops = core::read_csv(dir + "/rep/hurricane_operators.csv");
  std::map<std::string, int> all;
  std::set<std::string> kinds;
  for (const auto& row : ops.rows) {
    ++all[row[ops.column("position")]];
    const std::string& op = row[ops.column("operator")];
    kinds.insert(op.substr(op.find("operator=") + 9));
  }
  for (const auto& [position, n] : all)  // kernel x expansion x the stage's operators
    EXPECT_EQ(n, position.rfind("s1.", 0) == 0 ? 8 : 16) << position;
  EXPECT_EQ(kinds.size(), 4u);
}

// hao search on a generative space judges on the supernet by default: trained once, kept
// beside the store; a second search of the same space for another device loads it and judges
// at once; the report says which evaluator judged.
TEST(SupernetTorch, SearchTrainsTheSupernetOnceAndASecondSearchReusesIt) {
  const std::string dir = ::testing::TempDir() + "supernet_search";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string space = small_space(dir), db = dir + "/studies.db";
  // `study` empty: the default name.
  auto search = [&](const std::string& device, const std::string& study,
                    const std::vector<std::string>& more = {}) {
    std::vector<std::string> args{"search",
                                  "--space",
                                  space,
                                  "--device",
                                  device,
                                  "--budget",
                                  "8",
                                  "--storage",
                                  db,
                                  "--supernet-steps",
                                  "6",
                                  "--supernet-qat-steps",
                                  "2",
                                  "--validation",
                                  "300",
                                  "--recalibration-images",
                                  "100",
                                  "--finalists",
                                  "1",
                                  "--final-qat-steps",
                                  "1",
                                  "--threads",
                                  "1",
                                  "--out",
                                  dir + "/rep-" + device,
                                  "--json",
                                  dir + "/" + device + ".json"};
    if (!study.empty()) args.insert(args.end(), {"--study", study});
    if (device == "zu3eg") args.insert(args.end(), {"--final-steps", "3"});
    args.insert(args.end(), more.begin(), more.end());
    return hao(args);
  };
  HaoRun first = search("zu3eg", "a");
  ASSERT_EQ(first.code, kExitOk) << first.err;
  EXPECT_NE(first.err.find("training the supernet of two"), std::string::npos) << first.err;
  std::size_t kept = 0;
  for (const auto& f : fs::directory_iterator(db + ".d/supernets"))
    kept += f.path().extension() == ".pt";
  EXPECT_EQ(kept, 1u);
  // The finalist is fine-tuned in float from its inherited weights, then quantization-aware.
  EXPECT_NE(first.err.find("after 3 float + 1 QAT batches"), std::string::npos) << first.err;
  // Its fine-tuned checkpoint is kept, and the report exports the chosen design from it.
  EXPECT_TRUE(fs::exists(dir + "/rep-zu3eg/chosen/model.qonnx.onnx"));
  EXPECT_NE(first.out.find("chosen/: the design as FINN builds it"), std::string::npos)
      << first.out;
  // Another device is another study by default (its settings differ), on the kept supernet.
  HaoRun second = search("zu9eg", "");
  ASSERT_EQ(second.code, kExitOk) << second.err;
  EXPECT_NE(second.out.find("new study 'two-hao-supernet-zu9eg-s1'"), std::string::npos)
      << second.out;
  EXPECT_NE(second.err.find("judging on the supernet kept in"), std::string::npos) << second.err;
  EXPECT_EQ(second.err.find("training the supernet"), std::string::npos);
  // Without --final-steps a supernet's finalists get 120 float batches first.
  EXPECT_NE(second.err.find("after 120 float + 1 QAT batches"), std::string::npos) << second.err;
  const nlohmann::json j = nlohmann::json::parse(core::read_file(dir + "/zu9eg.json"));
  EXPECT_EQ(j["evaluations"].size(), 8u);
  EXPECT_NE(second.out.find("8 evaluations (judged at their bits on the supernet"),
            std::string::npos)
      << second.out;

  // The genotypes the first study judged are taken from the supernet memo (accuracy does not
  // depend on the device), and they are what judging them again gives: a third study for zu9eg
  // with --no-reuse judges every candidate and finds the same accuracies.
  auto count = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  const std::size_t reused = count(second.err, "[judged by an earlier study]");
  EXPECT_GE(reused, 1u) << second.err;  // the same seed asks the same random candidates first
  HaoRun fresh = search("zu9eg", "fresh", {"--no-reuse"});
  ASSERT_EQ(fresh.code, kExitOk) << fresh.err;
  EXPECT_EQ(count(fresh.err, "[judged by an earlier study]"), 0u) << fresh.err;
  EXPECT_EQ(count(fresh.err, "(measured by an earlier study)"), 0u) << fresh.err;
  const nlohmann::json f = nlohmann::json::parse(core::read_file(dir + "/zu9eg.json"));
  ASSERT_EQ(f["evaluations"].size(), j["evaluations"].size());
  std::size_t marked = 0;
  for (std::size_t i = 0; i < j["evaluations"].size(); ++i) {
    const auto &a = j["evaluations"][i], &b = f["evaluations"][i];
    EXPECT_EQ(a["genotype"], b["genotype"]) << i;
    EXPECT_DOUBLE_EQ(a["accuracy"].get<double>(), b["accuracy"].get<double>()) << i;
    marked += a["extra"].value("reused", false);
    EXPECT_FALSE(b["extra"].value("reused", false)) << i;
  }
  EXPECT_EQ(marked, reused);
  // Its finalist was fine-tuned again by the fresh study, with the same result; the second
  // study's finalist (the same settings) is what a later one takes.
  HaoRun again = search("zu9eg", "again");
  ASSERT_EQ(again.code, kExitOk) << again.err;
  EXPECT_EQ(count(again.err, "[judged by an earlier study]"), 8u) << again.err;
  EXPECT_NE(again.out.find("8 evaluations (judged at their bits on the supernet, 8 of them by "
                           "earlier studies)"),
            std::string::npos)
      << again.out;
  EXPECT_NE(again.err.find("after 120 float + 1 QAT batches (measured by an earlier study)"),
            std::string::npos)
      << again.err;
  const nlohmann::json g = nlohmann::json::parse(core::read_file(dir + "/zu9eg.json"));
  for (const auto* study : {&f, &g}) {
    ASSERT_EQ((*study)["frontier"].size(), 1u);
    EXPECT_DOUBLE_EQ((*study)["frontier"][0]["test_accuracy"].get<double>(),
                     j["frontier"][0]["test_accuracy"].get<double>());
  }
  EXPECT_TRUE(fs::exists(dir + "/rep-zu9eg/chosen/model.qonnx.onnx"));

  // --warm-start: what earlier studies judged on this supernet first, in the order they judged
  // it: the first study's eight, so the first study again without computing anything.
  HaoRun warm = search("zu3eg", "warm", {"--warm-start"});
  ASSERT_EQ(warm.code, kExitOk) << warm.err;
  EXPECT_EQ(count(warm.err,
                  "(warm start: judged by an earlier study)  [judged by an earlier "
                  "study]"),
            8u)
      << warm.err;
  EXPECT_NE(warm.err.find("after 3 float + 1 QAT batches (measured by an earlier study)"),
            std::string::npos)
      << warm.err;
  HaoRun contradiction = search("zu9eg", "x", {"--warm-start", "--no-reuse"});
  EXPECT_EQ(contradiction.code, kExitBadInput);
  EXPECT_NE(contradiction.err.find("--warm-start evaluates first what earlier studies judged"),
            std::string::npos)
      << contradiction.err;

  // Values that are not what hao writes (edited by hand) are computed again, not taken.
  {
    nn::SupernetMemo memo(db + ".d/supernets/memo.db");
    for (const auto& key : memo.keys("judgement", ""))
      memo.put("judgement", key, {{"val_accuracy", "high"}});
  }
  HaoRun retaken = search("zu9eg", "retaken");
  ASSERT_EQ(retaken.code, kExitOk) << retaken.err;
  EXPECT_EQ(count(retaken.err, "[judged by an earlier study]"), 0u) << retaken.err;
  const nlohmann::json rj = nlohmann::json::parse(core::read_file(dir + "/zu9eg.json"));
  ASSERT_EQ(rj["evaluations"].size(), j["evaluations"].size());
  for (std::size_t i = 0; i < j["evaluations"].size(); ++i)
    EXPECT_DOUBLE_EQ(rj["evaluations"][i]["accuracy"].get<double>(),
                     j["evaluations"][i]["accuracy"].get<double>())
        << i;

  // A damaged memo: one message naming it, exit 2, the file left as it was.
  std::ofstream(db + ".d/supernets/memo.db") << "not a database, and long enough to be read";
  HaoRun damaged = search("zu9eg", "damaged");
  EXPECT_EQ(damaged.code, kExitBadInput) << damaged.err;
  EXPECT_NE(damaged.err.find("memo.db: not a hao supernet memo"), std::string::npos) << damaged.err;
  EXPECT_EQ(core::read_file(db + ".d/supernets/memo.db"),
            "not a database, and long enough to be read");
}

// hao search --strategy netadapt as a user runs it on the supernet: the largest network first,
// then iterations of samples, the trajectory printed and written; a larger budget is another
// study (the steps are planned over it); spaces without numeric choices are refused.
TEST(SupernetTorch, NetAdaptDescendsOnTheSupernetAndWritesItsTrajectory) {
  const std::string dir = ::testing::TempDir() + "supernet_netadapt";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string space = small_space(dir), db = dir + "/studies.db";
  auto search = [&](const std::string& budget, const std::string& layers) {
    return hao(brief_search(space, db, dir + "/rep", budget,
                            {"--strategy", "netadapt", "--layers", layers, "--samples", "2"}));
  };
  const HaoRun first = search("5", "2");
  ASSERT_EQ(first.code, kExitOk) << first.err;
  EXPECT_NE(first.err.find("[1/5]"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("(the largest network)"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("(iteration 1, sample 1 of 2: "), std::string::npos) << first.err;
  EXPECT_NE(first.out.find("NetAdapt's trajectory ("), std::string::npos) << first.out;
  const core::CsvTable t = core::read_csv(dir + "/rep/netadapt_trajectory.csv");
  ASSERT_GE(t.rows.size(), 2u);  // the largest network, and iteration 1's most accurate sample
  EXPECT_EQ(t.rows[1][t.column("samples")], "2");
  EXPECT_LT(std::stod(t.rows[1][t.column("frame_ms")]), std::stod(t.rows[0][t.column("frame_ms")]));

  const HaoRun resumed = search("5", "2");  // the same settings: nothing left to judge
  ASSERT_EQ(resumed.code, kExitOk) << resumed.err;
  EXPECT_NE(resumed.out.find("resuming study"), std::string::npos) << resumed.out;
  const HaoRun longer = search("9", "2");  // planned over another budget: refused
  EXPECT_EQ(longer.code, kExitBadInput) << longer.err;
  EXPECT_NE(longer.err.find("exists with other settings"), std::string::npos) << longer.err;
  const HaoRun table =
      hao({"search", "--space", "nb201", "--strategy", "netadapt", "--storage", dir + "/t.db"});
  EXPECT_EQ(table.code, kExitBadInput);
  EXPECT_NE(table.err.find("is not a number"), std::string::npos) << table.err;
  const HaoRun too_many = search("5", "999");
  EXPECT_EQ(too_many.code, kExitBadInput);
  EXPECT_NE(too_many.err.find("--layers 999"), std::string::npos) << too_many.err;
}

TEST(SupernetTorch, HurricaneSelectsOperatorsAndEvolvesOnTheSupernet) {
  const std::string dir = ::testing::TempDir() + "supernet_hurricane";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string space = small_space(dir), db = dir + "/studies.db";
  auto search = [&](const std::string& budget, const std::vector<std::string>& extra) {
    std::vector<std::string> own{"--strategy", "hurricane",    "--operators",
                                 "2",          "--population", "2"};
    own.insert(own.end(), extra.begin(), extra.end());
    return hao(brief_search(space, db, dir + "/rep", budget, own));
  };
  const HaoRun first = search("6", {});
  ASSERT_EQ(first.code, kExitOk) << first.err;
  EXPECT_NE(first.err.find("(later layers, generation 1: random, network 1 of the stage's 3"),
            std::string::npos)
      << first.err;
  EXPECT_NE(first.err.find("(early layers, generation 2: mutation, network 3 of the stage's 3"),
            std::string::npos)
      << first.err;
  EXPECT_NE(first.out.find("HURRICANE's operator selection"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("best within the limit: "), std::string::npos) << first.out;
  const core::CsvTable ops = core::read_csv(dir + "/rep/hurricane_operators.csv");
  ASSERT_FALSE(ops.rows.empty());
  std::map<std::string, int> kept, all;
  for (const auto& row : ops.rows) {
    ++all[row[ops.column("position")]];
    kept[row[ops.column("position")]] += row[ops.column("kept")] == "1";
  }
  for (const auto& [position, n] : all) {
    EXPECT_EQ(n, 4) << position;  // the small space's kernel x expansion
    EXPECT_EQ(kept[position], 2) << position;
  }
  const core::CsvTable gens = core::read_csv(dir + "/rep/hurricane_generations.csv");
  ASSERT_EQ(gens.rows.size(), 4u);  // two generations of each stage: 2 + 1, then 2 + 1
  EXPECT_EQ(gens.rows[0][gens.column("networks")], "2");
  EXPECT_EQ(gens.rows[1][gens.column("networks")], "1");

  const HaoRun resumed = search("6", {});
  ASSERT_EQ(resumed.code, kExitOk) << resumed.err;
  EXPECT_NE(resumed.out.find("resuming study"), std::string::npos) << resumed.out;
  const HaoRun longer = search("8", {});  // its generations were sized from the budget
  EXPECT_EQ(longer.code, kExitBadInput) << longer.err;
  EXPECT_NE(longer.err.find("exists with other settings"), std::string::npos) << longer.err;
  const HaoRun unreachable = search("6", {"--latency-limit", "0.000001", "--study", "tiny"});
  EXPECT_EQ(unreachable.code, kExitBadInput) << unreachable.err;
  EXPECT_NE(unreachable.err.find("--latency-limit 0.0000 ms: the cheapest network"),
            std::string::npos)
      << unreachable.err;
  const HaoRun table =
      hao({"search", "--space", "nb201", "--strategy", "hurricane", "--storage", dir + "/t.db"});
  EXPECT_EQ(table.code, kExitBadInput);
  EXPECT_NE(table.err.find("selects operators per layer position"), std::string::npos) << table.err;
}

// hao profile --table as a user runs it: the table built and checked, reused on a second run,
// refused when it says another machine measured it.
TEST(SupernetTorch, ProfileBuildsAndChecksTheCpuPieceTable) {
  const std::string dir = ::testing::TempDir() + "cpu_table_cli";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string space = small_space(dir), table = dir + "/table.json";
  auto profile = [&](const std::string& sample) {
    return hao({"profile", "--space", space, "--table", table, "--sample", sample, "--repeats", "2",
                "--warmup", "0", "--threads", "1", "--json", dir + "/check.json"});
  };
  const HaoRun first = profile("2");
  ASSERT_EQ(first.code, kExitOk) << first.err;
  EXPECT_NE(first.out.find("over 2 networks"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("(0 read, "), std::string::npos) << first.out;
  const nlohmann::json check = nlohmann::json::parse(core::read_file(dir + "/check.json"));
  EXPECT_EQ(check["networks"].size(), 2u);
  EXPECT_GE(check["mape_pct"].get<double>(), 0);
  const HaoRun again = profile("2");  // the same networks: every piece read, none measured
  ASSERT_EQ(again.code, kExitOk) << again.err;
  EXPECT_NE(again.out.find(" measured now)"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find(", 0 measured now)"), std::string::npos) << again.out;
  nlohmann::json stored = nlohmann::json::parse(core::read_file(table));
  stored["cpu"] = "Some Other CPU";
  core::write_file(table, stored.dump());
  const HaoRun elsewhere = profile("2");
  EXPECT_EQ(elsewhere.code, kExitBadInput);
  EXPECT_NE(elsewhere.err.find("'Some Other CPU'"), std::string::npos) << elsewhere.err;
  const HaoRun no_space = hao({"profile", "--table", table});
  EXPECT_EQ(no_space.code, kExitBadInput);
  EXPECT_NE(no_space.err.find("give --space"), std::string::npos) << no_space.err;
}

// hao search --target cpu: latencies from the host CPU's piece table (measured as the search
// goes, kept), a study of its own; HURRICANE's operators priced on the CPU.
TEST(SupernetTorch, SearchOnTheHostCpuPricesNetworksFromItsPieceTable) {
  const std::string dir = ::testing::TempDir() + "supernet_cpu_target";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string space = small_space(dir), db = dir + "/studies.db";
  const std::string table = dir + "/cpu.json";
  const HaoRun run = hao(brief_search(space, db, dir + "/rep", "4",
                                      {"--strategy", "hurricane", "--population", "2", "--target",
                                       "cpu", "--cpu-table", table, "--study", "c"}));
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_NE(run.out.find("target the host CPU"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("CPU piece table: "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("no accelerator design to export"), std::string::npos) << run.out;
  const nlohmann::json t = nlohmann::json::parse(core::read_file(table));
  EXPECT_GT(t["pieces"].size(), 3u);
  EXPECT_EQ(t["threads"], 1);
  const core::CsvTable ops = core::read_csv(dir + "/rep/hurricane_operators.csv");
  for (const auto& row : ops.rows) EXPECT_EQ(row[ops.column("share")], "1.0000");
  // The study's records carry CPU latencies: fps = 1000 / ms, no resources.
  const core::CsvTable pareto = core::read_csv(dir + "/rep/pareto.csv");
  ASSERT_FALSE(pareto.rows.empty());
  // The same study name for the dataflow target is another study.
  const HaoRun dataflow =
      hao(brief_search(space, db, dir + "/rep2", "4",
                       {"--strategy", "hurricane", "--population", "2", "--study", "c"}));
  EXPECT_EQ(dataflow.code, kExitBadInput) << dataflow.err;
  EXPECT_NE(dataflow.err.find("exists with other settings"), std::string::npos) << dataflow.err;
  const HaoRun table_space =
      hao({"search", "--space", "nb201", "--target", "cpu", "--storage", dir + "/t.db"});
  EXPECT_EQ(table_space.code, kExitBadInput);
  EXPECT_NE(table_space.err.find("--target cpu: a tabular space"), std::string::npos)
      << table_space.err;
}

TEST(SupernetTorch, SearchOnTheEngineTargetPricesNetworksOnProgramTwosEngine) {
  const std::string dir = ::testing::TempDir() + "supernet_engine_target";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string space = small_space(dir), db = dir + "/studies.db";
  const std::string dpu = std::string(HAO_EXAMPLES) + "/devices/zcu102_dpu_b4096.yaml";
  // The DPU's latency model, calibrated on Accel-NASBench's measurements as a user does.
  const std::string model = dir + "/zcu102.json";
  const HaoRun calibrate =
      hao({"calibrate", "--kind", "engine", "--device", dpu, "--space", "anb", "--measurements",
           std::string(HAO_SHARED_DATA) + "/accel-nasbench/calibration.csv", "--column",
           "zcu102_latency_ms", "--out", model});
  ASSERT_EQ(calibrate.code, kExitOk) << calibrate.err;
  std::vector<std::string> args =
      brief_search(space, db, dir + "/rep", "3", {"--target", "engine", "--latency-model", model});
  *std::find(args.begin(), args.end(), "zu9eg") = dpu;
  const HaoRun run = hao(args);
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_NE(run.out.find("study 'two-hao-supernet-engine-zcu102_dpu_b4096-zcu102-s1'"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("target program 2's engine on zcu102_dpu_b4096 (latency: " + model),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("program 2's engine design"), std::string::npos) << run.out;
  const std::string layers = core::read_file(dir + "/rep/chosen/layers.txt");
  EXPECT_NE(layers.find("pinned by the device"), std::string::npos) << layers;
  EXPECT_NE(layers.find("calibrated"), std::string::npos) << layers;
  EXPECT_FALSE(fs::exists(dir + "/rep/chosen/folding_config.json"));
  const nlohmann::json report = nlohmann::json::parse(core::read_file(dir + "/rep/pareto.json"));
  EXPECT_EQ(report["settings"]["target"], "engine");
  EXPECT_EQ(report["settings"]["latency_model"], model);
  // Each candidate's latency is the model's for its network, as hao map predicts it.
  for (const auto& e : report["evaluations"]) {
    const HaoRun map =
        hao({"map", space + ":" + e["genotype"].get<std::string>(), "--template", "engine",
             "--device", dpu, "--latency-model", model, "--json", dir + "/map.json"});
    ASSERT_EQ(map.code, kExitOk) << map.err;
    const nlohmann::json m = nlohmann::json::parse(core::read_file(dir + "/map.json"));
    EXPECT_NEAR(e["latency_ms"].get<double>(), m["calibrated"]["latency_ms"].get<double>(), 1e-4)
        << e["genotype"];
    EXPECT_GT(e["dsp"].get<double>(), 0);  // the engine's resources
  }
  // A model without the engine target, or for a device that pins no engine: exit 2.
  const HaoRun no_target =
      hao(brief_search(space, db, dir + "/r2", "3", {"--latency-model", model, "--study", "x"}));
  EXPECT_EQ(no_target.code, kExitBadInput);
  EXPECT_NE(no_target.err.find("needs --target engine"), std::string::npos) << no_target.err;
  const HaoRun unpinned =
      hao(brief_search(space, db, dir + "/r3", "3",
                       {"--target", "engine", "--latency-model", model, "--study", "y"}));
  EXPECT_EQ(unpinned.code, kExitBadInput);
  EXPECT_NE(unpinned.err.find("zu9eg pins no engine"), std::string::npos) << unpinned.err;
}

}  // namespace
}  // namespace hao::cli
