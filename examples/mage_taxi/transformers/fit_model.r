library("dplyr")
transform <- function(df, ...) {
  df %>% mutate(weight = weight * 2)
}
