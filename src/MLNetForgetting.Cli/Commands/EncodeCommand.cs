using System.CommandLine;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Interop;
using MLNetForgetting.MLNet;
using MLNetForgetting.MLNet.Pretraining;

namespace MLNetForgetting.Cli.Commands;

/// <summary><c>mlnf encode</c>: a corpus as token ids for the PyTorch distributed trainer (python/mlnf_torch).</summary>
public static class EncodeCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliHost host)
    {
        var model = CliOptions.Input("--model", "Whose tokenizer: a language model zip (pretrain, relearn, import) or a Hugging Face folder written by mlnf export", aliases: "-m");
        var input = CliOptions.Input("--input", "Text: a .txt file (one row per line), a folder of *.txt files, or a .tsv file with a header (see --column)", aliases: "-i");
        var column = new Option<string?>("--column") { Description = "Text column of a TSV input (default 'Text' for .tsv files)", HelpName = "name" };
        var maxRows = CliOptions.Number("--max-rows", "Use only the first N rows of the input (0: all)", 0L).AtLeast(0);
        var output = CliOptions.Output("--output", "The token-id file to write (python3 -m mlnf_torch.train --corpus reads it)", aliases: "-o");
        var seq = CliOptions.Number("--seq", "Longest sequence in tokens, <s> and </s> included (longer text is truncated)", 128).AtLeast(3);

        var command = new Command("encode", "Tokenize a corpus into token ids for the PyTorch distributed trainer (python/mlnf_torch, docs/distributed.md): one sequence per line after a header naming the special ids.")
        {
            model, input, column, maxRows, output, seq,
        };
        command.WithExamples(
            "mlnf encode --model hf/en-forget --input ../shared/data/raw/en --output en.ids --seq 128",
            "mlnf encode --model lm.zip --input sentences.tsv --column sentence --output s.ids");

        return host.SetAction(command, (parse, context) =>
        {
            var ml = context.CreateMLContext(seed: 0);
            string? modelPath = parse.GetValue(model);
            Text.SubwordTokenizer tokenizer;
            if (Directory.Exists(modelPath))
            {
                var (m, t) = HuggingFaceImport.Import(modelPath);
                m.Dispose();
                tokenizer = t ?? throw new CliUsageException($"--model '{modelPath}' has no tokenizer (looked for our tokenizer_config.json, vocab.json + merges.txt, sentencepiece.bpe.model, vocab.txt); export it with mlnf export");
            }
            else
            {
                var loaded = ModelFiles.LoadAny(ml, modelPath, "--model", out _);
                tokenizer = (ModelFiles.Find<LanguageModelTransformer>(loaded) ?? throw new CliUsageException($"--model '{modelPath}' holds {ModelFiles.Describe(loaded)}; expected a language model")).Tokenizer;
            }
            var text = TextInput.Open(ml, parse.GetValue(input), "--input", parse.GetValue(column), parse.GetValue(maxRows));
            string outputPath = PathChecks.OutputFile(parse.GetValue(output), "--output");
            var (sequences, tokens) = TorchDistributedExchange.WriteCorpusIds(tokenizer, DataViewText.Read(text.Data, text.Column), parse.GetValue(seq), outputPath);
            context.WriteLine($"Encoded {text.Description}: {sequences} sequences, {tokens} tokens (vocabulary {tokenizer.VocabSize}) into {outputPath}");
            return ExitCodes.Success;
        });
    }
}
