using System.CommandLine;

/// <summary>The tour's command line (System.CommandLine), kept out of the README's code; <c>--help</c> lists it.</summary>
internal sealed record TourOptions(bool Tiny, string Output, string? Data, string Language, string? Pretrained)
{
    /// <summary>The options, or null after <c>--help</c> or a bad option (the parser has printed why; the exit code is set).</summary>
    public static TourOptions? Parse(string[] args)
    {
        var tiny = new Option<bool>("--tiny") { Description = "Seconds instead of an hour: the configuration CI runs" };
        var output = new Option<string>("--output") { Description = "Folder for the data, models and adapter pack", DefaultValueFactory = _ => "tour-output" };
        var data = new Option<string?>("--data") { Description = "Data laid out as raw/{language}/*.txt, glue_pools/MNLI/train.tsv, xnli/dev/dev.{language}.tsv (default: the synthetic testbed, written into --output)" };
        var language = new Option<string>("--language") { Description = "Target language", DefaultValueFactory = _ => "xa" };
        var pretrained = new Option<string?>("--pretrained") { Description = "Start from a pretrained model instead of pretraining: a Hugging Face BERT, RoBERTa or XLM-R folder (e.g. all-MiniLM-L6-v2 from `mlnf import --backbone minilm --hf-output hf/minilm`)" };
        var root = new RootCommand("The README's five-minute tour: pretrain with active forgetting (or start from a pretrained model), relearn, task-adapt, assemble, evaluate, and LiST.") { tiny, output, data, language, pretrained };
        TourOptions? parsed = null;
        root.SetAction(p => { parsed = new TourOptions(p.GetValue(tiny), p.GetValue(output)!, p.GetValue(data), p.GetValue(language)!, p.GetValue(pretrained)); });
        int code = root.Parse(args).Invoke();
        if (parsed is null) Environment.ExitCode = code;
        return parsed;
    }
}
