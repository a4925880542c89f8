// mezo-sst2: prompt-based MeZO fine-tuning of a language model on SST-2, as
// in the MeZO paper (Malladi et al., 2023), with libmezo: a masked LM through
// its MLM head (the paper's RoBERTa setting) or a causal LM through its LM
// head (its OPT setting).
//
//   mezo-sst2 train --model DIR|FILE.gguf [options]   (train is the default command)
//   mezo-sst2 export --out RUN --to FILE.gguf|DIR [--type f32|f16|q8_0]
//   mezo-sst2 splits --glue-dir DIR --k K --seed S --out OUT
//   mezo-sst2 random-model --tokenizer DIR --out DIR   (smoke tests only)
//
// `mezo-sst2 --help` and `mezo-sst2 COMMAND --help` list every option.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <set>
#include <string>

#include "cluster.hpp"
#include "exporter.hpp"
#include "mezo/fzoo.hpp"
#include "mezo/mezo.hpp"
#include "optimizer_choice.hpp"
#include "random_model.hpp"
#include "tasks.hpp"
#include "trainer.hpp"

namespace fs = std::filesystem;

// The same program is built as mezo-sst2 (the bundled SST-2 example) and
// mezo-train (its name when --task picks another task).
#ifndef MEZO_TRAIN_PROGRAM
#define MEZO_TRAIN_PROGRAM "mezo-sst2"
#endif

namespace {

constexpr const char* kProgram = MEZO_TRAIN_PROGRAM;

// The paper's spelling of its settings in --help: 1e-4, 0.1, 0.
std::string short_float(float value) {
  if (value <= 0.0f || value >= 0.05f) return fmt::format("{:g}", value);
  std::string s = fmt::format("{:.0e}", value);  // 1e-04
  if (std::stof(s) != value) s = fmt::format("{:e}", value);
  if (const auto e = s.find("e-0"); e != std::string::npos) s.erase(e + 2, 1);
  return s;
}

void add_train_options(CLI::App& cmd, sst2::TrainOptions& o, bool& resume, double& mpi_timeout) {
  cmd.add_option("--model", o.model_dir,
                 "the model: a Hugging Face folder (config.json, model.safetensors, tokenizer "
                 "files) of a masked LM (roberta, bert) or a causal LM (llama, qwen2), or a "
                 ".gguf file (llama, qwen2)");
  cmd.add_option("--task", o.task,
                 fmt::format("the task: {} (the MeZO paper's OPT tasks, with its templates; "
                             "every task but sst2 needs a causal LM and uses the sampled "
                             "protocol, test = up to 1,000 examples of the task's val.jsonl)",
                             sst2::task_names()))
      ->capture_default_str();
  cmd.add_option("--task-file", o.task_file,
                 "your own task: a JSON file naming its JSONL data, a template with {field}s and "
                 "either label_words (classification) or choices_field (multiple choice); see "
                 "examples/sst2/README.md, \"Your own task\"");
  cmd.add_option("--data", o.data_dir,
                 "SST-2 folder (with k-shot/ or glue/), or a folder of train/dev/test.tsv "
                 "(kshot) or of GLUE's train/dev.tsv (sampled); for another --task, the folder "
                 "holding superglue/ (default ../shared/data)")
      ->capture_default_str();
  cmd.add_option("--protocol", o.protocol,
                 "data: kshot (K per class for train and dev, test = GLUE dev: the paper's "
                 "RoBERTa setting), sampled (--num-train + --num-dev drawn from GLUE train, test "
                 "= GLUE dev: its OPT setting) or auto (sampled if --num-train/--num-dev given, "
                 "kshot if --k given, else kshot for masked LMs and sampled for causal LMs)")
      ->capture_default_str();
  cmd.add_option("--k", o.k, "kshot: training (and dev) examples per class")->capture_default_str();
  cmd.add_option("--num-train", o.num_train, "sampled: training examples")->capture_default_str();
  cmd.add_option("--num-dev", o.num_dev, "sampled: dev examples (disjoint from the training ones)")
      ->capture_default_str();
  cmd.add_option("--data-seed", o.data_seed,
                 "which split: the k-shot split's seed (13, 21, 42, 87, 100 in the paper) or "
                 "the sampled protocol's NumPy seed")
      ->capture_default_str();
  cmd.add_option("--out", o.out_dir,
                 "run folder: run.json, trajectory.mezotrj, metrics.jsonl (default: a new "
                 "runs/TASK/YYYYMMDD-HHMMSS)");
  cmd.add_flag("--resume", resume, "continue the run in --out (its options are reused)");
  cmd.add_option("--objective", o.objective,
                 "cross_entropy or accuracy (negative accuracy, non-differentiable); for "
                 "generation tasks answer_nll (the gold answer's NLL, their default) or f1 (the "
                 "answers' F1, non-differentiable: each step generates the batch's answers twice)")
      ->capture_default_str();
  cmd.add_option("--head", o.head,
                 "auto, mlm (masked LM head at the mask), cosine (masked LMs without an MLM "
                 "head) or lm (causal LM head after the prompt); auto: lm for causal LMs, mlm "
                 "if the masked LM has its head, else cosine")
      ->capture_default_str();
  cmd.add_option("--cosine-scale", o.cosine_scale, "cosine head: logits = scale * cos")
      ->capture_default_str();
  cmd.add_option("--template", o.prompt.template_text,
                 "prompt with {sentence} and {mask} (default: '{sentence} It was{mask}.' for "
                 "RoBERTa, '{sentence} it was {mask} .' for BERT, '{sentence} It was' for "
                 "causal LMs, where {mask} may only come last)");
  cmd.add_option("--label-words", o.prompt.label_words,
                 "one word per label, comma-separated (default ' terrible, great', BERT "
                 "'terrible,great'); one token each for masked LMs, any length for causal LMs "
                 "(scored by mean log-probability)")
      ->delimiter(',');
  cmd.add_option("--max-length", o.prompt.max_length,
                 "prompt tokens (a causal LM's longest label word included); sentences are cut "
                 "from the tail")
      ->capture_default_str();
  using sst2::kCausalLmDefaults, sst2::kMaskedLmDefaults;
  using sst2::kFullDefaults, sst2::kLoraDefaults, sst2::kPrefixDefaults;
  cmd.add_option("--optimizer", o.optimizer,
                 fmt::format("zeroth-order method: {} (MeZO's ZO-SGD; n-SPSA, its n-direction "
                             "average; FZOO, one-sided Rademacher probes with a normalised step; "
                             "AdaMeZO, moments replayed from the last --history steps' seeds)",
                             sst2::optimizer_names()))
      ->capture_default_str();
  cmd.add_option("--directions", o.directions,
                 fmt::format("directions per step for n-spsa (default {}) and fzoo (default {}: "
                             "{} forwards a step)",
                             sst2::kDefaultNSpsaDirections, mezo::FzooConfig{}.directions,
                             mezo::FzooConfig{}.directions + 1));
  cmd.add_option("--beta1", o.beta1, "ada-mezo: first-moment decay")->capture_default_str();
  cmd.add_option("--beta2", o.beta2, "ada-mezo: second-moment decay")->capture_default_str();
  cmd.add_option("--history", o.history, "ada-mezo: past steps replayed in each update")
      ->capture_default_str();
  cmd.add_option("--lr", o.lr,
                 fmt::format("learning rate (default: {}, fzoo {}, ada-mezo {}; --peft lora {}, "
                             "prefix {})",
                             short_float(kFullDefaults.lr), short_float(sst2::default_lr("fzoo")),
                             short_float(sst2::default_lr("ada-mezo")),
                             short_float(kLoraDefaults.lr), short_float(kPrefixDefaults.lr)));
  cmd.add_option("--eps", o.eps,
                 fmt::format("perturbation scale (default: {}; --peft lora {}, prefix {})",
                             short_float(kFullDefaults.eps), short_float(kLoraDefaults.eps),
                             short_float(kPrefixDefaults.eps)));
  cmd.add_option(
      "--weight-decay", o.weight_decay,
      fmt::format("weight decay, not on biases and norms (default: {}; --peft lora {}, prefix {})",
                  short_float(kFullDefaults.weight_decay), short_float(kLoraDefaults.weight_decay),
                  short_float(kPrefixDefaults.weight_decay)));
  cmd.add_option("--steps", o.steps,
                 fmt::format("MeZO steps (default: {} for masked LMs, {} for causal LMs; 0: "
                             "evaluate zero-shot only)",
                             kMaskedLmDefaults.steps, kCausalLmDefaults.steps));
  cmd.add_option("--eval-every", o.eval_every,
                 fmt::format("dev evaluation interval in steps (default: {} for masked LMs, {} "
                             "for causal LMs)",
                             kMaskedLmDefaults.eval_every, kCausalLmDefaults.eval_every));
  cmd.add_option("--batch", o.batch_size,
                 fmt::format("examples per step (default: {} for masked LMs, {} for causal LMs; "
                             "the default is capped at the training set)",
                             kMaskedLmDefaults.batch_size, kCausalLmDefaults.batch_size));
  cmd.add_option("--seed", o.seed, "run seed (perturbations and batches)")->capture_default_str();
  cmd.add_option("--threads", o.threads, "CPU threads, 0 = all")->capture_default_str();
  cmd.add_option("--compute", o.compute,
                 "fp32, or bf16: the layers' matrix products on bf16 inputs with fp32 "
                 "accumulation (oneDNN; AVX512_BF16 or AMX CPUs), weights kept in fp32")
      ->capture_default_str();
  cmd.add_flag("!--no-exact-restore", o.exact_restore,
               "restore weights to within fp32 rounding instead of bit-exactly (saves memory)");
  cmd.add_option("--log-every", o.log_every, "progress line / zero-gradient report interval")
      ->capture_default_str();
  cmd.add_option("--max-rejected", o.max_rejected_in_a_row,
                 "stop with an error after this many rejected (non-finite loss) steps in a row, "
                 "0 = never")
      ->capture_default_str();
  cmd.add_option("--max-eval-examples", o.max_eval_examples,
                 "evaluate on at most this many dev/test examples (0 = all)")
      ->capture_default_str();
  cmd.add_option("--demos", o.demos,
                 fmt::format("in-context learning (the paper's ICL baseline): evaluate the "
                             "untrained model with this many training examples and their "
                             "answers before every prompt (the paper: 32; implies --steps 0 "
                             "and --max-length {})",
                             sst2::kInContextMaxLength))
      ->capture_default_str();
  cmd.add_option("--peft", o.peft,
                 "full (every weight), lora or prefix (parameter-efficient MeZO; their lr, eps "
                 "and weight decay default to the paper's: see --lr, --eps, --weight-decay)")
      ->capture_default_str();
  cmd.add_option("--lora-rank", o.lora_rank, "LoRA rank r")->capture_default_str();
  cmd.add_option("--lora-alpha", o.lora_alpha, "LoRA alpha (scale alpha / r)")
      ->capture_default_str();
  cmd.add_option("--lora-targets", o.lora_targets,
                 "comma-separated: query, key, value, attention_output, intermediate, output, "
                 "gate (decoders) (default query,value)")
      ->delimiter(',');
  cmd.add_option("--prefix-tokens", o.prefix_tokens, "prefix tuning: key/value vectors per layer")
      ->capture_default_str();
  cmd.add_option("--prefix-init", o.prefix_init,
                 "real (the frozen model's keys/values of random tokens) or random")
      ->capture_default_str();
  cmd.add_option("--mpi-timeout", mpi_timeout,
                 "under mpirun: seconds a rank waits for the others before it gives up")
      ->capture_default_str();
}

// The long names of the options given on `cmd`'s command line.
std::set<std::string> given_options(const CLI::App& cmd) {
  std::set<std::string> given;
  for (const CLI::Option* option : cmd.get_options()) {
    if (option->count() > 0 && !option->get_lnames().empty())
      given.insert("--" + option->get_lnames().front());
  }
  return given;
}

// " (rank R of N)" in an MPI job, so that a message says which process failed.
std::string rank_label() {
  return sst2::Cluster::distributed()
             ? fmt::format(" (rank {} of {})", sst2::Cluster::rank(), sst2::Cluster::size())
             : std::string();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Prompt-based MeZO fine-tuning of a language model on SST-2 or another of the MeZO paper's "
      "tasks (--task) (libmezo " MEZO_VERSION_STRING ")"};
  app.require_subcommand(0, 1);

  sst2::TrainOptions train_options;
  bool resume = false;
  CLI::App* train = app.add_subcommand("train", "fine-tune with MeZO (the default command)");
  double mpi_timeout = 300.0, top_mpi_timeout = 300.0;
  add_train_options(*train, train_options, resume, mpi_timeout);
  // `mezo-sst2 --model DIR ...` means `mezo-sst2 train --model DIR ...`.
  sst2::TrainOptions top_options;
  bool top_resume = false;
  add_train_options(app, top_options, top_resume, top_mpi_timeout);

  sst2::ExportOptions export_options;
  CLI::App* exporter = app.add_subcommand(
      "export",
      "write a run's best-by-dev weights as a model file and measure its test accuracy from it");
  exporter->add_option("--out", export_options.run, "the run folder")->required();
  exporter
      ->add_option("--to", export_options.to,
                   "a .gguf file (a causal LM trained from a GGUF file; its tokenizer is "
                   "carried over) or a folder (Hugging Face format, for a run on such a folder)")
      ->required();
  exporter
      ->add_option("--type", export_options.type,
                   "GGUF matrix type: f32 (the trained weights exactly), f16 or q8_0")
      ->capture_default_str();
  exporter->add_option("--threads", export_options.threads, "CPU threads, 0 = the run's")
      ->capture_default_str();

  fs::path glue_dir, splits_out;
  int k = 16;
  std::uint32_t seed = 42;
  CLI::App* splits = app.add_subcommand(
      "splits", "write a k-shot split as LM-BFF does (K per class, test = GLUE dev)");
  splits->add_option("--glue-dir", glue_dir, "folder with the GLUE train.tsv and dev.tsv")
      ->required();
  splits->add_option("--k", k, "examples per class")->required();
  splits->add_option("--seed", seed, "NumPy seed of the shuffle")->required();
  splits->add_option("--out", splits_out, "writes OUT/K-SEED/{train,dev,test}.tsv")->required();

  sst2::RandomModelOptions random_options;
  CLI::App* random = app.add_subcommand(
      "random-model", "a tiny RANDOM model with a real tokenizer, for smoke tests");
  random
      ->add_option("--tokenizer", random_options.tokenizer_dir,
                   "folder with vocab.txt or vocab.json + merges.txt")
      ->required();
  random->add_option("--out", random_options.out, "model folder to write")->required();
  random
      ->add_option("--arch", random_options.arch,
                   "auto (the tokenizer's encoder: BERT or RoBERTa) or llama (a decoder; "
                   "vocab.json + merges.txt)")
      ->capture_default_str();
  random->add_option("--hidden", random_options.hidden, "hidden size")->capture_default_str();
  random->add_option("--layers", random_options.layers, "layers")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints and exits 0; a usage error exits 2 (as a missing --model
    // does), not with CLI11's own codes (105, 106, 109, ...).
    return app.exit(e) == 0 ? 0 : 2;
  }
  // libmezo's own warnings (a damaged trajectory tail cut off on --resume,
  // say) reach the user on stderr; libmezo itself never prints.
  mezo::set_log_sink([](mezo::LogLevel level, std::string_view message) {
    if (level >= mezo::LogLevel::warning) {
      std::fprintf(stderr, "%s: %s: %.*s\n", kProgram, mezo::to_string(level),
                   static_cast<int>(message.size()), message.data());
    }
  });
  try {
    if (splits->parsed()) {
      const auto split = mezo::make_kshot_split(glue_dir / "train.tsv", k, seed);
      const fs::path dir = splits_out / fmt::format("{}-{}", k, seed);
      mezo::write_kshot_split(split, glue_dir / "dev.tsv", dir);
      std::printf("%s\n", dir.c_str());
      return 0;
    }
    if (exporter->parsed()) return sst2::export_run(export_options);
    if (random->parsed()) {
      sst2::make_random_model(random_options);
      std::printf("%s\n", random_options.out.c_str());
      return 0;
    }
    const bool explicit_train = train->parsed();
    sst2::TrainOptions& o = explicit_train ? train_options : top_options;
    CLI::App& given = explicit_train ? *train : app;
    o.given = given_options(given);
    const bool r = explicit_train ? resume : top_resume;
    if (o.model_dir.empty() && !r) {
      std::fprintf(stderr,
                   "%s: --model DIR is required (try: --model "
                   "\"$(tools/fetch_default_model.sh)\")\n",
                   kProgram);
      return 2;
    }
    if (!o.task_file.empty() && !r) {
      // The run keeps the file's absolute path (--resume from anywhere) and its name.
      o.task_file = fs::absolute(o.task_file);
      o.task = sst2::load_task_file(o.task_file).name;
    }
    if (o.out_dir.empty()) {
      if (r) {
        std::fprintf(stderr, "%s: --resume needs the run's --out folder\n", kProgram);
        return 2;
      }
      // A fresh folder per run: rerunning a command never touches an earlier run.
      const std::time_t now = std::time(nullptr);
      char stamp[32];
      std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
      o.out_dir = fs::path("runs") / o.task / stamp;
    }
    // Under mpirun: join the job (data-parallel training, see cluster.hpp).
    sst2::Cluster::start(&argc, &argv, explicit_train ? mpi_timeout : top_mpi_timeout);
    return sst2::train(o, r);
  } catch (const mezo::Error& e) {
    std::fprintf(sst2::Cluster::errors(), "%s%s: error: %s\n", kProgram, rank_label().c_str(),
                 e.what());
    sst2::Cluster::abort_job(1);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(sst2::Cluster::errors(), "%s%s: unexpected error: %s\n", kProgram,
                 rank_label().c_str(), e.what());
    sst2::Cluster::abort_job(1);
    return 1;
  }
}
