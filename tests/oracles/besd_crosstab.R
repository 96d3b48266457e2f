# Oracle for tests/test_equity.py: a BeSD indicator cross-tabulated by the child's vaccination status
# with R survey (domains on the full design, Taylor linearization, PSUs with replacement).
# Usage: Rscript besd_crosstab.R input.csv output.csv
# input.csv: catchment (stratum), cluster (PSU), weight, vaccination_status, besd_confb
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
d <- read.csv(args[1], stringsAsFactors = FALSE)
des <- svydesign(ids = ~cluster, strata = ~catchment, weights = ~weight, data = d)
b <- svyby(~besd_confb, ~vaccination_status, des, svymean, na.rm = TRUE)
out <- data.frame(group = as.character(b$vaccination_status), estimate = b$besd_confb, se = SE(b))
write.csv(out, args[2], row.names = FALSE)
