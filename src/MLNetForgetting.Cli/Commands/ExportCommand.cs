using System.CommandLine;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Interop;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.MLNet.Pretraining;

namespace MLNetForgetting.Cli.Commands;

/// <summary><c>mlnf export</c>: any of the tool's zips as a Hugging Face RoBERTa folder.</summary>
public static class ExportCommand
{
    private static readonly string[] Formats = { "safetensors", "bin", "both" };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliHost host)
    {
        var model = CliOptions.Input("--model", "A model zip: language model (pretrain, relearn, import), classifier (finetune, assemble) or LiST classifier (list)", aliases: "-m");
        var output = CliOptions.Output("--output", "The folder to write: weights, config.json and the tokenizer files (vocab.json, merges.txt, tokenizer_config.json)", aliases: "-o");
        var format = new Option<string>("--format") { Description = "Weights as model.safetensors, pytorch_model.bin, or both", DefaultValueFactory = _ => "safetensors" }.OneOf(Formats);

        var command = new Command("export", "Export a model zip as a Hugging Face RoBERTa folder (loads with transformers' RobertaForMaskedLM / from_pretrained; mlnf import reads it back bit-exactly).")
        {
            model, output, format,
        };
        command.WithExamples(
            "mlnf export --model en-forget.zip --output hf/en-forget",
            "mlnf export --model nli-de.zip --output hf/nli-de --format both");

        return host.SetAction(command, (parse, context) =>
        {
            var ml = context.CreateMLContext(seed: 0);
            string folder = PathChecks.OutputFolder(parse.GetValue(output), "--output");
            var loaded = ModelFiles.LoadAny(ml, parse.GetValue(model), "--model", out _);
            var weights = CliOptions.Canonical(parse.GetValue(format)!, Formats) switch
            {
                "bin" => ExportFormat.PyTorch,
                "both" => ExportFormat.Both,
                _ => ExportFormat.Safetensors,
            };
            // The most specific component first: a LiST zip also holds its backbone's language model.
            if (ModelFiles.Find<PromptAdapterTransformer>(loaded) is { } list) list.ExportHuggingFace(folder, weights);
            else if (ModelFiles.Find<SentencePairClassifierTransformer>(loaded) is { } classifier) classifier.ExportHuggingFace(folder, weights);
            else if (ModelFiles.Find<LanguageModelTransformer>(loaded) is { } lm) lm.ExportHuggingFace(folder, weights);
            else throw new CliUsageException($"--model '{parse.GetValue(model)}' holds {ModelFiles.Describe(loaded)}; nothing to export");
            context.WriteLine($"Exported {ModelFiles.Describe(loaded)} to {folder}: {string.Join(", ", Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal))}");
            return ExitCodes.Success;
        });
    }
}
