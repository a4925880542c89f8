#!/usr/bin/env bash
# Bad input to mezo-sst2: every case must exit with status 1 (bad input) or 2
# (bad command line), say what is wrong on stderr, and never crash (no signal,
# no abort: a status >= 128 fails the test). Only the BERT vocabulary is needed
# from the shared data; the data folders are written here.
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
require_shared tokenizers/bert-base-uncased/vocab.txt

failures=0
cases=0
# expect_error NAME 'PHRASE' ARGS...: mezo-sst2 ARGS must fail with 1 or 2 and
# print PHRASE (fixed string) on stderr.
expect_error() {
  local name=$1 phrase=$2 rc=0
  shift 2
  cases=$((cases + 1))
  "$SST2" "$@" >"$name.out" 2>"$name.err" </dev/null || rc=$?
  local why=""
  if [[ $rc -eq 0 ]]; then
    why="succeeded (exit 0), expected an error"
  elif [[ $rc -ge 128 ]]; then
    why="CRASHED with status $rc (signal $((rc - 128)))"
  elif [[ $rc -ne 1 && $rc -ne 2 ]]; then
    why="exited with status $rc, expected 1 or 2"
  elif ! grep -qF -- "$phrase" "$name.err"; then
    why="stderr does not say '$phrase'"
  elif grep -qE 'terminate called|Segmentation|Aborted|AddressSanitizer' "$name.err"; then
    why="stderr shows a crash"
  fi
  if [[ -n $why ]]; then
    echo "FAIL  $name: mezo-sst2 $*: $why; stderr:" >&2
    sed 's/^/        /' "$name.err" >&2
    failures=$((failures + 1))
  else
    echo "ok    $name (exit $rc): $(grep -F -- "$phrase" "$name.err" | head -1)"
  fi
}

make_model bert-base-uncased model
header=$'sentence\tlabel'
# A valid data folder, then broken variants of it.
mkdir -p data/good
{ echo "$header"; for i in 1 2 3 4; do printf 'a good movie %d\t1\na bad movie %d\t0\n' "$i" "$i"; done; } >data/good/train.tsv
cp data/good/train.tsv data/good/dev.tsv
cp data/good/train.tsv data/good/test.tsv
variant() {  # variant NAME: data/NAME, a copy of data/good whose train.tsv the caller rewrites
  cp -r data/good "data/$1"
}
variant label5 && printf '%s\ngood film\t1\nbad film\t5\n' "$header" >data/label5/train.tsv
variant empty && : >data/empty/train.tsv
variant header_only && echo "$header" >data/header_only/train.tsv
variant empty_sentence && printf '%s\ngood film\t1\n\t0\n' "$header" >data/empty_sentence/train.tsv
variant empty_line && printf '%s\ngood film\t1\n\nbad film\t0\n' "$header" >data/empty_line/train.tsv
# A GLUE folder with 3 sentences per class, to generate a k-shot split from.
mkdir -p small/glue
{ echo "$header"; for i in 1 2 3; do printf 'good %d\t1\nbad %d\t0\n' "$i" "$i"; done; } >small/glue/train.tsv
cp data/good/dev.tsv small/glue/dev.tsv

cp -r model no_weights && rm no_weights/model.safetensors
cp -r model no_tokenizer && rm no_tokenizer/vocab.txt

run=(train --steps 2 --eval-every 1 --batch 4 --threads 1)  # plus --data, --model, --out
expect_error no_safetensors "model.safetensors" "${run[@]}" --data data/good --model no_weights --out out/no_safetensors
expect_error no_tokenizer "/no_tokenizer': looked for" "${run[@]}" --data data/good --model no_tokenizer --out out/no_tokenizer
expect_error missing_model_dir "no such folder" "${run[@]}" --data data/good --model does_not_exist --out out/missing_model_dir
expect_error no_model_option "--model DIR is required" "${run[@]}" --data data/good --out out/no_model_option
expect_error label_5 "line 3: label 5 is out of range" "${run[@]}" --model model --data data/label5 --out out/label5
expect_error empty_train "train.tsv: the file is empty" "${run[@]}" --model model --data data/empty --out out/empty
expect_error header_only_train "no examples" "${run[@]}" --model model --data data/header_only --out out/header_only
expect_error empty_sentence "line 3: the sentence is empty" "${run[@]}" --model model --data data/empty_sentence --out out/es
expect_error empty_line "line 3: the line is empty" "${run[@]}" --model model --data data/empty_line --out out/el
expect_error no_data "no k-shot/16-42 split" "${run[@]}" --model model --data does_not_exist --out out/no_data
expect_error label_word_bert "label word 'magnificently' is 2 tokens (magnificent ##ly)" \
  "${run[@]}" --data data/good --model model --out out/lw1 --label-words 'terrible,magnificently'
# Comma-separated, spaces kept: ' greatness' is the second word, and it splits.
expect_error label_word_split "label word ' greatness' is 2 tokens (great ##ness)" \
  "${run[@]}" --data data/good --model model --out out/lw2 --label-words ' terrible, greatness'
expect_error label_word_count_1 "2 words, got 1" "${run[@]}" --data data/good --model model --out out/lw3 --label-words 'great'
expect_error label_word_count_3 "2 words, got 3" "${run[@]}" --data data/good --model model --out out/lw4 --label-words 'bad,good,great'
expect_error template "must contain {sentence} and {mask}" "${run[@]}" --data data/good --model model --out out/tpl --template 'no slots'
expect_error k_too_large "each label needs 2k = 8" "${run[@]}" --model model --data small --k 4 --out out/k
expect_error splits_k_too_large "each label needs 2k = 8" splits --glue-dir small/glue --k 4 --seed 42 --out out/splits
expect_error steps_negative "--steps must be >= 0, got -1" train --model model --data data/good --steps -1 --out out/steps_negative
expect_error steps_not_a_number "--steps" train --model model --data data/good --steps abc --out out/steps_abc
expect_error eval_every_0 "--eval-every must be >= 1" train --model model --data data/good --eval-every 0 --out out/ev0
expect_error objective "--objective must be cross_entropy, accuracy, answer_nll or f1, got 'nonsense'" \
  "${run[@]}" --data data/good --model model --out out/objective --objective nonsense
expect_error head "--head must be auto, mlm, cosine or lm, got 'linear'" "${run[@]}" --data data/good --model model --out out/head --head linear
expect_error lr_nan "lr must be finite" "${run[@]}" --data data/good --model model --out out/lr --lr nan
expect_error lr_negative "--lr must be finite and >= 0, got -0.001" "${run[@]}" --data data/good --model model \
  --out out/lr_negative --lr -1e-3
expect_error eps_0 "--eps must be a positive finite number, got 0" "${run[@]}" --data data/good --model model \
  --out out/eps0 --eps 0
expect_error eps_inf "--eps must be a positive finite number, got inf" "${run[@]}" --data data/good \
  --model model --out out/eps_inf --eps inf
expect_error batch_too_large "--batch 9 is larger than the 8 training examples" train --steps 2 --threads 1 \
  --batch 9 --data data/good --model model --out out/batch9
expect_error rejected_in_a_row "the last 3 steps were all rejected" train --steps 20 --eval-every 10 \
  --batch 4 --threads 1 --lr 1e12 --max-rejected 3 --data data/good --model model --out out/rejected
expect_error max_rejected_negative "--max-rejected must be >= 0" "${run[@]}" --data data/good --model model \
  --out out/max_rejected --max-rejected -1
expect_error weight_decay_negative "--weight-decay must be finite and >= 0" "${run[@]}" --data data/good \
  --model model --out out/wd --weight-decay -0.1
expect_error optimizer_unknown "--optimizer must be zo-sgd, n-spsa, fzoo or ada-mezo, got 'adam'" \
  "${run[@]}" --data data/good --model model --out out/opt --optimizer adam
expect_error fzoo_one_direction "--optimizer fzoo: FZOO: directions per step must be in [2, 65535]" \
  "${run[@]}" --data data/good --model model --out out/opt --optimizer fzoo --directions 1
expect_error directions_of_zo_sgd "--directions is an option of n-spsa and fzoo, not zo-sgd" \
  "${run[@]}" --data data/good --model model --out out/opt --directions 4
expect_error beta_of_fzoo "--beta1 is an option of ada-mezo, not fzoo" "${run[@]}" --data data/good \
  --model model --out out/opt --optimizer fzoo --beta1 0.5
expect_error ada_mezo_history "AdaMeZO: history must be in [1, 1024] steps, got 0" "${run[@]}" \
  --data data/good --model model --out out/opt --optimizer ada-mezo --history 0
expect_error ada_mezo_beta "AdaMeZO: beta2 must be in [0, 1), got 1" "${run[@]}" --data data/good \
  --model model --out out/opt --optimizer ada-mezo --beta2 1
expect_error unknown_option "--bogus" "${run[@]}" --data data/good --model model --out out/bogus --bogus
expect_error resume_no_folder "no run to resume" train --resume --out out/never_made
mkdir -p out/empty_folder
expect_error resume_empty_folder "no run to resume" train --resume --out out/empty_folder

# A second run into a folder that holds a run must refuse and leave it untouched.
"$SST2" "${run[@]}" --data data/good --model model --out out/existing >existing.log 2>&1 || { cat existing.log; fail "the first run into out/existing failed"; }
cp -r out/existing existing.before
expect_error existing_run "already holds a run" "${run[@]}" --data data/good --model model --out out/existing
expect_error existing_run_other_options "already holds a run" train --model model --data small --k 1 --steps 3 --out out/existing
diff -r existing.before out/existing >/dev/null || { echo "FAIL  existing_run: out/existing was modified" >&2; failures=$((failures + 1)); }

[[ $failures -eq 0 ]] || fail "$failures of $cases bad-input cases failed"
note "PASS: all $cases bad-input cases exit 1 or 2 with a clear message"
