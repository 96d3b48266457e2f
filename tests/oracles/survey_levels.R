# Oracle for tests/test_levels.py: zero-dose by district, by area within district and by population group
# and sex, each a domain of the full design (svyby), as lqas writes them to estimates.csv.
# Usage: Rscript survey_levels.R input.csv output.csv
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
d <- read.csv(args[1], stringsAsFactors = FALSE)
des <- svydesign(ids = ~cluster, strata = ~catchment, weights = ~weight, data = d)
rows <- list()
add <- function(b, by) {
  key <- do.call(paste, c(lapply(by, function(v) as.character(b[[v]])), sep = "|"))
  data.frame(by = paste(by, collapse = "+"), key = key, estimate = b$zero_dose, se = SE(b))
}
for (by in list(c("district"), c("district", "area"), c("area"), c("population_group", "sex"),
                c("cohort", "district", "sex"))) {
  f <- as.formula(paste0("~", paste(by, collapse = "+")))
  rows[[length(rows) + 1]] <- add(svyby(~zero_dose, f, des, svymean, na.rm = TRUE), by)
}
write.csv(do.call(rbind, rows), args[2], row.names = FALSE)
