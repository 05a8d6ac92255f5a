namespace Newsletter.Worker.Data;

/// <summary>A value the service generates once and every instance must share (e.g. the token secret).</summary>
public sealed class Setting
{
    public required string Key { get; set; }

    public required string Value { get; set; }
}
