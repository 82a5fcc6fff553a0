# What the benchmark scripts share. Imported by each (Import-Module (Join-Path $PSScriptRoot 'BenchmarkSupport.psm1')).
Set-StrictMode -Version Latest

# The median of a sample: the middle value, or the mean of the two middle values of an even count; NaN for none.
function Get-Median([double[]] $Values) {
    $sorted = [double[]]($Values | Sort-Object)
    $n = $sorted.Count
    if ($n -eq 0) { return [double]::NaN }
    if ($n % 2 -eq 1) { return $sorted[($n - 1) / 2] }
    ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2
}

Export-ModuleMember -Function Get-Median
