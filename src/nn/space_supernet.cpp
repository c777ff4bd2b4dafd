#include "nn/space_supernet.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "core/error.hpp"
#include "core/text.hpp"

namespace hao::nn {

std::string space_signature(const search::Mbv2Spec& s) {
  auto list = [](const auto& values) {
    std::string out;
    for (const auto& v : values) {
      std::ostringstream one;
      one << v;
      out += (out.empty() ? "" : ",") + one.str();
    }
    return "[" + out + "]";
  };
  std::string out = "hao-mbv2-supernet-1|data " + s.data + "|input " +
                    std::to_string(s.input_channels) + "x" + std::to_string(s.input_height) + "x" +
                    std::to_string(s.input_width) + " b" + std::to_string(s.input_bits) +
                    "|classes " + std::to_string(s.classes) + "|stem " +
                    std::to_string(s.stem_channels) + " k" + std::to_string(s.stem_kernel) + " s" +
                    std::to_string(s.stem_stride) + " b" + std::to_string(s.stem_bits) + "|stages";
  for (const auto& st : s.stages)
    out += " " + std::to_string(st.channels) + "/" + std::to_string(st.stride);
  out += "|head " + std::to_string(s.head_channels) + "|classifier b" +
         std::to_string(s.classifier_bits) + "|depth " + list(s.depth) + "|width " + list(s.width) +
         "|kernel " + list(s.kernel) + "|expansion " + list(s.expansion) + "|bits " + list(s.bits);
  // Operator pools only where they are not MobileNetV2's block alone: the signatures of
  // supernets trained before pools existed stay what they were.
  bool plain = s.operators == std::vector<std::string>{"mbconv"};
  for (const auto& st : s.stages) plain = plain && st.operators.empty();
  if (plain) return out;
  out += "|operators";
  for (std::size_t i = 0; i < s.stages.size(); ++i) out += " " + list(s.pool(i));
  return out;
}

Supernet space_supernet(const search::Mbv2Domain& domain) {
  // Where blocks choose operators, the largest network at each other operator (o-th of each
  // pool, its last where a pool is shorter) lends its layers.
  const search::Genotype largest = domain.largest();
  std::vector<ir::Network> others;
  std::size_t pool = 0;
  for (const auto& slot : domain.slots())
    if (slot.ordered_as_listed) pool = std::max(pool, slot.choices.size());
  for (std::size_t o = 0; o + 1 < pool; ++o) {
    search::Genotype g = largest;
    for (std::size_t i = 0; i < g.size(); ++i)
      if (domain.slots()[i].ordered_as_listed)
        g[i] = static_cast<int>(std::min(o, domain.slots()[i].choices.size() - 1));
    others.push_back(domain.network(g, "supernet"));
  }
  return Supernet(domain.network(largest, "supernet"), domain.spec().bits, std::move(others));
}

SupernetTrainResult train_space_supernet(Supernet& net, const search::Mbv2Domain& domain,
                                         const data::DataSet& ds, const SupernetTrainOptions& o,
                                         const std::function<void(long, long, double)>& progress) {
  const MemberSampler sample = [&domain](std::mt19937_64& rng) {
    return domain.network(domain.random(rng), "member");
  };
  return train_supernet(net, domain.network(domain.smallest(), "smallest"), sample, ds, o,
                        progress);
}

nlohmann::ordered_json training_json(const SupernetTrainOptions& o) {
  nlohmann::ordered_json j{{"steps", o.steps},
                           {"qat_steps", o.qat_steps},
                           {"batch_size", o.batch_size},
                           {"random_members", o.random_members},
                           {"lr", o.lr},
                           {"qat_lr_fraction", o.qat_lr_fraction},
                           {"weight_decay", o.weight_decay},
                           {"label_smoothing", o.label_smoothing},
                           {"distillation", o.distillation},
                           {"calibration_images", o.calibration_images},
                           {"seed", o.seed},
                           {"validation", o.validation},
                           {"subset", o.subset}};
  // Only where it is not the sandwich rule: a kept supernet's name (a digest of these settings)
  // stays what it was before the mode was a setting.
  if (o.mode != SupernetMode::kSandwich) j["mode"] = supernet_mode_name(o.mode);
  return j;
}

SupernetTrainOptions training_from_json(const nlohmann::json& j, const std::string& where) {
  SupernetTrainOptions o;
  auto get = [&](const char* key, auto& value) {
    if (!j.is_object() || !j.contains(key))
      throw core::InputError(where + ": training setting '" + key + "' is missing");
    try {
      j.at(key).get_to(value);
    } catch (const nlohmann::json::exception&) {
      throw core::InputError(where + ": training setting '" + key + "' = " + j.at(key).dump() +
                             " has the wrong type");
    }
  };
  get("steps", o.steps);
  get("qat_steps", o.qat_steps);
  get("batch_size", o.batch_size);
  get("random_members", o.random_members);
  get("lr", o.lr);
  get("qat_lr_fraction", o.qat_lr_fraction);
  get("weight_decay", o.weight_decay);
  get("label_smoothing", o.label_smoothing);
  // Supernets kept before it was a setting learned from the largest's soft labels alone.
  o.distillation = 1;
  if (j.contains("distillation")) get("distillation", o.distillation);
  get("calibration_images", o.calibration_images);
  get("seed", o.seed);
  get("validation", o.validation);
  get("subset", o.subset);
  if (j.contains("mode")) {
    std::string mode;
    get("mode", mode);
    o.mode = parse_supernet_mode(mode, where + ": training setting 'mode'");
  }
  return o;
}

void save_supernet(Supernet& net, const SupernetInfo& info, const std::string& path) {
  torch::serialize::OutputArchive archive;
  net->save(archive);
  write_text(archive, "hao_signature", net->largest_module()->signature());
  write_text(archive, "hao_supernet_space", info.signature);
  write_text(archive, "hao_supernet_info",
             nlohmann::json{{"space", info.space},
                            {"training", info.training},
                            {"result", info.result},
                            {"quantized", info.quantized}}
                 .dump());
  // Written next to the file, then renamed: a killed save leaves the old checkpoint whole.
  const std::string partial = path + ".partial";
  try {
    archive.save_to(partial);
  } catch (const c10::Error& e) {
    throw core::InputError(path + ": cannot write the supernet: " + e.what_without_backtrace());
  }
  std::filesystem::rename(partial, path);
}

SupernetInfo load_supernet(Supernet& net, const search::Mbv2Domain& domain,
                           const std::string& path) {
  if (!std::filesystem::exists(path)) throw core::InputError(path + ": cannot open file");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error&) {
    throw core::InputError(path +
                           ": not a hao supernet checkpoint (hao supernet train --out "
                           "writes them)");
  }
  SupernetInfo info;
  std::string text;
  if (!read_text(archive, "hao_supernet_space", info.signature) ||
      !read_text(archive, "hao_supernet_info", text))
    throw core::InputError(path + ": not a hao supernet checkpoint (no space signature; a " +
                           "network's checkpoint from hao train is not a supernet)");
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("space") || !j["space"].is_string() ||
      !j.contains("quantized") || !j["quantized"].is_boolean())
    throw core::InputError(path + ": damaged supernet checkpoint (its settings do not parse)");
  info.space = j["space"];
  info.quantized = j["quantized"];
  info.training = j.value("training", nlohmann::json::object());
  info.result = j.value("result", nlohmann::json::object());
  const std::string mine = space_signature(domain.spec());
  if (info.signature != mine)
    throw core::InputError(path + ": a supernet of space '" + info.space +
                           "', whose dimensions differ from this space's (it holds '" +
                           info.signature + "'; this space is '" + mine + "')");
  training_from_json(info.training, path);  // every setting there before anything is used
  try {
    net->load(archive);
  } catch (const c10::Error& e) {
    throw core::InputError(path + ": damaged supernet checkpoint: " + e.what_without_backtrace());
  }
  net->set_mode(info.quantized ? IrNetImpl::Mode::kQuantized : IrNetImpl::Mode::kFloat);
  net->eval();
  return info;
}

search::Genotype with_uniform_bits(const search::Mbv2Domain& domain, search::Genotype g, int bits,
                                   const std::string& where) {
  const auto& slots = domain.slots();
  const std::string text = std::to_string(bits);
  bool any = false;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const std::string& name = slots[i].name;
    if (name.size() < 5 || name.compare(name.size() - 5, 5, ".bits") != 0) continue;
    const auto& c = slots[i].choices;
    const auto it = std::find(c.begin(), c.end(), text);
    if (it == c.end())
      throw core::InputError(where + ": bits " + text + " are not among the space's choices (" +
                             core::join(c, ", ") + ")");
    g[i] = static_cast<int>(it - c.begin());
    any = true;
  }
  if (!any) throw core::InputError(where + ": the space has no bit choices to set");
  search::Rng unused(0);
  return domain.snap(g, unused);  // blocks past a stage's depth hold choice 0 again
}

SupernetInfo train_and_save_supernet(const search::Mbv2Domain& domain, const data::DataSet& ds,
                                     const SupernetTrainOptions& options,
                                     const std::string& space_name, const std::string& path,
                                     const std::function<void(long, long, double)>& progress) {
  seed_torch(options.seed);
  Supernet net = space_supernet(domain);
  const SupernetTrainResult r = train_space_supernet(net, domain, ds, options, progress);
  SupernetInfo info;
  info.space = space_name;
  info.signature = space_signature(domain.spec());
  info.training = training_json(options);
  info.quantized = options.qat_steps > 0;
  info.result = {{"steps", r.steps},
                 {"qat_steps", r.qat_steps},
                 {"seconds", r.seconds},
                 {"images_per_s", r.images_per_s},
                 {"final_loss", r.final_loss},
                 {"largest_val_accuracy", r.largest_val_accuracy},
                 {"smallest_val_accuracy", r.smallest_val_accuracy}};
  save_supernet(net, info, path);
  return info;
}

MemberJudgement judge_member(Supernet net, const SupernetInfo& info,
                             const search::Mbv2Domain& domain, const search::Genotype& g,
                             const data::DataSet& ds, const JudgeImages& images, bool in_float) {
  const auto t0 = std::chrono::steady_clock::now();
  if (images.judge.empty())
    throw core::InputError("the supernet was trained with no validation images to judge on");
  const IrNetImpl::Mode was = net->mode();
  MemberJudgement j;
  j.quantized = info.quantized && !in_float;
  // The mode is the supernet's state, not its weights: set for this judgement, then restored.
  net->set_mode(j.quantized ? IrNetImpl::Mode::kQuantized : IrNetImpl::Mode::kFloat);
  j.val_accuracy = member_accuracy(net, domain.network(g, "member"), ds.train, images.norm,
                                   images.recalibrate, images.judge);
  net->set_mode(was);
  j.recalibrated = images.recalibrate.size();
  j.judged = images.judge.size();
  j.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return j;
}

IrNet export_member(const Supernet& net, const search::Mbv2Domain& domain,
                    const search::Genotype& g, const std::string& name, const data::DataSet& ds,
                    const JudgeImages& images) {
  IrNet member =
      recalibrated_member(net, domain.network(g, name), ds.train, images.norm, images.recalibrate);
  member->set_mode(IrNetImpl::Mode::kFloat);
  return member;
}

}  // namespace hao::nn
