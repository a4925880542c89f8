// mezo-sst2: prompt-based MeZO fine-tuning of a masked LM on SST-2, as in the
// MeZO paper (Malladi et al., 2023), with libmezo.
//
//   mezo-sst2 train --model DIR [options]     (train is the default command)
//   mezo-sst2 splits --glue-dir DIR --k K --seed S --out OUT
//   mezo-sst2 random-model --tokenizer DIR --out DIR   (smoke tests only)
//
// `mezo-sst2 --help` and `mezo-sst2 COMMAND --help` list every option.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "cluster.hpp"
#include "mezo/mezo.hpp"
#include "trainer.hpp"

namespace fs = std::filesystem;

namespace {

void add_train_options(CLI::App& cmd, sst2::TrainOptions& o, bool& resume, double& mpi_timeout) {
  cmd.add_option("--model", o.model_dir,
                 "HF model folder: config.json, model.safetensors, tokenizer files");
  cmd.add_option("--data", o.data_dir,
                 "SST-2 folder (with k-shot/ or glue/), or a folder of train/dev/test.tsv")
      ->capture_default_str();
  cmd.add_option("--k", o.k, "training (and dev) examples per class")->capture_default_str();
  cmd.add_option("--data-seed", o.data_seed,
                 "which k-shot split (13, 21, 42, 87, 100 in the paper)")
      ->capture_default_str();
  cmd.add_option("--out", o.out_dir,
                 "run folder: run.json, trajectory.mezotrj, metrics.jsonl (default: a new "
                 "runs/sst2/YYYYMMDD-HHMMSS)");
  cmd.add_flag("--resume", resume, "continue the run in --out (its options are reused)");
  cmd.add_option("--objective", o.objective,
                 "cross_entropy or accuracy (negative accuracy, non-differentiable)")
      ->capture_default_str();
  cmd.add_option("--head", o.head,
                 "auto (mlm if the model has an MLM head, else cosine), mlm, cosine")
      ->capture_default_str();
  cmd.add_option("--cosine-scale", o.cosine_scale, "cosine head: logits = scale * cos")
      ->capture_default_str();
  cmd.add_option(
      "--template", o.prompt.template_text,
      "prompt with {sentence} and {mask} (default: '{sentence} It was{mask}.' for RoBERTa, "
      "'{sentence} it was {mask} .' for BERT)");
  cmd.add_option(
         "--label-words", o.prompt.label_words,
         "one word per label, comma-separated (default ' terrible, great' / 'terrible,great')")
      ->delimiter(',');
  cmd.add_option("--max-length", o.prompt.max_length,
                 "prompt tokens; sentences are cut from the tail")
      ->capture_default_str();
  cmd.add_option("--lr", o.lr, "learning rate (default: --peft full's)")->capture_default_str();
  cmd.add_option("--eps", o.eps, "perturbation scale (default: --peft full's)")
      ->capture_default_str();
  cmd.add_option("--weight-decay", o.weight_decay,
                 "weight decay, not on biases and LayerNorm (default: --peft full's)")
      ->capture_default_str();
  cmd.add_option("--steps", o.steps, "MeZO steps")->capture_default_str();
  cmd.add_option("--eval-every", o.eval_every, "dev evaluation interval (steps)")
      ->capture_default_str();
  cmd.add_option("--batch", o.batch_size, "examples per step")->capture_default_str();
  cmd.add_option("--seed", o.seed, "run seed (perturbations and batches)")->capture_default_str();
  cmd.add_option("--threads", o.threads, "CPU threads, 0 = all")->capture_default_str();
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
  cmd.add_option("--peft", o.peft,
                 "full (every weight), lora or prefix (parameter-efficient MeZO; their lr, eps "
                 "and weight decay default to the paper's: lora 1e-4, 1e-3, 0.1; prefix 1e-2, "
                 "1e-1, 0)")
      ->capture_default_str();
  cmd.add_option("--lora-rank", o.lora_rank, "LoRA rank r")->capture_default_str();
  cmd.add_option("--lora-alpha", o.lora_alpha, "LoRA alpha (scale alpha / r)")
      ->capture_default_str();
  cmd.add_option("--lora-targets", o.lora_targets,
                 "comma-separated: query, key, value, attention_output, intermediate, output "
                 "(default query,value)")
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

int make_random_model(const fs::path& tokenizer_dir, const fs::path& out, int hidden, int layers) {
  const bool roberta = fs::exists(tokenizer_dir / "vocab.json");
  const auto tokenizer = mezo::load_tokenizer(tokenizer_dir);
  mezo::TransformerConfig c;
  c.model_type = roberta ? mezo::ModelType::roberta : mezo::ModelType::bert;
  c.vocab_size = static_cast<std::int64_t>(tokenizer->vocab_size());
  c.hidden_size = hidden;
  c.num_hidden_layers = layers;
  c.num_attention_heads = std::max(1, hidden / 32);
  c.intermediate_size = 4 * hidden;
  c.max_position_embeddings = 130 + (roberta ? 2 : 0);
  c.type_vocab_size = roberta ? 1 : 2;
  c.layer_norm_eps = roberta ? 1e-5f : 1e-12f;
  c.pad_token_id = tokenizer->special_tokens().pad;
  mezo::MaskedLM::random(c, 1).save_pretrained(out);
  for (const char* file : {"vocab.json", "merges.txt", "vocab.txt", "tokenizer_config.json"}) {
    if (fs::exists(tokenizer_dir / file))
      fs::copy_file(tokenizer_dir / file, out / file, fs::copy_options::overwrite_existing);
  }
  std::ofstream(out / "RANDOM_WEIGHTS")
      << "Random weights made by `mezo-sst2 random-model`: for smoke tests only.\n";
  std::printf("%s\n", out.c_str());
  return 0;
}

// " (rank R of N)" in an MPI job, so that a message says which process failed.
std::string rank_label() {
  return sst2::Cluster::distributed()
             ? fmt::format(" (rank {} of {})", sst2::Cluster::rank(), sst2::Cluster::size())
             : std::string();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Prompt-based MeZO fine-tuning of a masked LM on SST-2 (libmezo " MEZO_VERSION_STRING
               ")"};
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

  fs::path tokenizer_dir, random_out;
  int hidden = 64, layers = 2;
  CLI::App* random = app.add_subcommand(
      "random-model", "a tiny RANDOM model with a real tokenizer, for smoke tests");
  random
      ->add_option("--tokenizer", tokenizer_dir, "folder with vocab.txt or vocab.json + merges.txt")
      ->required();
  random->add_option("--out", random_out, "model folder to write")->required();
  random->add_option("--hidden", hidden, "hidden size")->capture_default_str();
  random->add_option("--layers", layers, "encoder layers")->capture_default_str();

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
      std::fprintf(stderr, "mezo-sst2: %s: %.*s\n", mezo::to_string(level),
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
    if (random->parsed()) return make_random_model(tokenizer_dir, random_out, hidden, layers);
    const bool explicit_train = train->parsed();
    sst2::TrainOptions& o = explicit_train ? train_options : top_options;
    CLI::App& given = explicit_train ? *train : app;
    o.batch_given = given.get_option("--batch")->count() > 0;
    o.lr_given = given.get_option("--lr")->count() > 0;
    o.eps_given = given.get_option("--eps")->count() > 0;
    o.weight_decay_given = given.get_option("--weight-decay")->count() > 0;
    sst2::apply_peft_defaults(o);
    const bool r = explicit_train ? resume : top_resume;
    if (o.model_dir.empty() && !r) {
      std::fprintf(stderr,
                   "mezo-sst2: --model DIR is required (try: --model "
                   "\"$(tools/fetch_default_model.sh)\")\n");
      return 2;
    }
    if (o.out_dir.empty()) {
      if (r) {
        std::fprintf(stderr, "mezo-sst2: --resume needs the run's --out folder\n");
        return 2;
      }
      // A fresh folder per run: rerunning a command never touches an earlier run.
      const std::time_t now = std::time(nullptr);
      char stamp[32];
      std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
      o.out_dir = fs::path("runs") / "sst2" / stamp;
    }
    // Under mpirun: join the job (data-parallel training, see cluster.hpp).
    sst2::Cluster::start(&argc, &argv, explicit_train ? mpi_timeout : top_mpi_timeout);
    return sst2::train(o, r);
  } catch (const mezo::Error& e) {
    std::fprintf(sst2::Cluster::errors(), "mezo-sst2%s: error: %s\n", rank_label().c_str(),
                 e.what());
    sst2::Cluster::abort_job(1);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(sst2::Cluster::errors(), "mezo-sst2%s: unexpected error: %s\n",
                 rank_label().c_str(), e.what());
    sst2::Cluster::abort_job(1);
    return 1;
  }
}
