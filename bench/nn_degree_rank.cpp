// How well NN-Degree ranks measured accuracies without training anything: Kendall tau-b and
// Spearman between each counting convention (and the parameter count alone) and the recorded
// accuracy of every NAS-Bench-201 cell (CIFAR-10, CIFAR-100, ImageNet16-120) and of the
// Accel-NASBench sample. Prints a table; `--json FILE` writes the same figures.
//   ./build/bench/hao_nn_degree_rank [--data ../shared/data] [--json out.json]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/text.hpp"
#include "predict/metrics.hpp"
#include "report/table.hpp"
#include "search/nn_degree.hpp"
#include "search/tabular.hpp"

using namespace hao;

int main(int argc, char** argv) {
  std::string data = HAO_SHARED_DATA, json_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--data")) data = argv[i + 1];
    if (!std::strcmp(argv[i], "--json")) json_path = argv[i + 1];
  }
  const auto start = std::chrono::steady_clock::now();
  report::Table t;
  for (const char* c : {"space", "accuracy", "measure", "n", "kendall", "spearman"})
    t.add_column(c, std::strcmp(c, "kendall") && std::strcmp(c, "spearman") && std::strcmp(c, "n")
                        ? report::Table::Align::kLeft
                        : report::Table::Align::kRight);
  nlohmann::json rows = nlohmann::json::array();
  const auto add = [&](const std::string& space, const std::string& column,
                       const std::string& measure, const std::vector<double>& x,
                       const std::vector<double>& y) {
    const double tau = predict::kendall_tau_b(x, y), rho = predict::spearman(x, y);
    t.add_row({space, column, measure, std::to_string(x.size()), core::fixed(tau, 3),
               core::fixed(rho, 3)});
    rows.push_back({{"space", space},
                    {"accuracy", column},
                    {"measure", measure},
                    {"n", x.size()},
                    {"kendall", tau},
                    {"spearman", rho}});
  };
  for (const char* column : {"cifar10_test_acc", "cifar100_test_acc", "imagenet16_120_test_acc"}) {
    search::TabularSource source = search::default_source("nb201", data);
    source.accuracy_column = column;
    search::TabularDomain domain(source);
    const auto all = *domain.enumerate();
    std::vector<double> accuracy;
    for (const auto& g : all) accuracy.push_back(domain.accuracy(g));
    for (const auto& name : search::nb201_counting_names()) {
      std::vector<double> degree;
      for (const auto& g : all)
        degree.push_back(search::nb201_nn_degree(g, search::nb201_counting(name)));
      add("nb201", column, "nn-degree (" + name + ")", degree, accuracy);
    }
    std::vector<double> params;
    for (const auto& g : all) params.push_back(search::nb201_cell_parameters(g));
    add("nb201", column, "parameters", params, accuracy);
  }
  {
    search::TabularDomain domain(search::default_source("anb", data));
    std::vector<double> degree, params, accuracy;
    const auto all = *domain.enumerate();
    for (const auto& g : all) {
      const auto topo = *domain.topology(g);
      degree.push_back(topo.nn_degree);
      params.push_back(topo.parameters);
      accuracy.push_back(domain.accuracy(g));
    }
    add("anb", "val_top1_proxy", "nn-degree", degree, accuracy);
    add("anb", "val_top1_proxy", "parameters", params, accuracy);
  }
  std::fputs(t.render().c_str(), stdout);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.1f s\n", seconds);
  if (!json_path.empty())
    std::ofstream(json_path) << nlohmann::json{{"rows", rows}, {"seconds", seconds}}.dump(2)
                             << "\n";
  return 0;
}
